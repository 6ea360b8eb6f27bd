// Map operations by fd. Sizes come from the caller (TS knows each map's
// layout, including per-CPU value rounding).
#pragma once
#include <napi.h>

namespace wl {
void InitMaps(Napi::Env env, Napi::Object exports);
}
