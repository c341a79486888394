# Dependencies, all from Debian packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)  # targets onnx, onnx_proto (ONNX_NAMESPACE=onnx, ONNX_ML=1)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(stb REQUIRED IMPORTED_TARGET stb)  # stb_image for calibration pictures
pkg_check_modules(lmdb REQUIRED IMPORTED_TARGET lmdb)  # LMDB calibration sets
find_package(yaml-cpp REQUIRED)  # pipeline configs in YAML
