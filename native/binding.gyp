{
  "targets": [
    {
      "target_name": "wirelens_native",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/object.cc",
        "src/link.cc",
        "src/maps.cc",
        "src/ringbuf.cc",
        "src/btf.cc",
        "src/probe.cc",
        "src/tc.cc",
        "src/pcap.cc",
        "src/prog.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lpcap"]
    }
  ]
}
