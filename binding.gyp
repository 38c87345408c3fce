# The addon (parser, flow table, windows, pcap capture thread, N-API binding) and the lab's userspace link emulator.
{
  "targets": [
    {
      "target_name": "tcpcast",
      "sources": [
        "native/packet.cc",
        "native/flow_table.cc",
        "native/seq_analysis.cc",
        "native/ts_rtt.cc",
        "native/window.cc",
        "native/engine.cc",
        "native/capture.cc",
        "native/source.cc",
        "native/netns.cc",
        "native/host.cc",
        "native/addon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17"],
      "libraries": ["-lpcap", "-lpthread"]
    },
    {
      "target_name": "tcpcast-linkem",
      "type": "executable",
      "sources": ["native/linkem/linkem.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17", "-fno-exceptions"],
      "libraries": ["-lpthread"]
    }
  ]
}
