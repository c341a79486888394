# `cmake --install`: headers, shared and static library, CMake package, pkg-config.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/libquant DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES capi/include/libquant.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})  # the C ABI
install(TARGETS libquant libquant_static EXPORT libquantTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT libquantTargets NAMESPACE libquant:: FILE libquantTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libquant)
configure_package_config_file(cmake/libquantConfig.cmake.in
  ${PROJECT_BINARY_DIR}/libquantConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libquant)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/libquantConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/libquantConfig.cmake
  ${PROJECT_BINARY_DIR}/libquantConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libquant)
# Relocatable: the prefix is found from the .pc file's own folder.
file(RELATIVE_PATH LQ_PC_RELATIVE_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/libquant.pc.in ${PROJECT_BINARY_DIR}/libquant.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/libquant.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# The built-in target profiles (also compiled into the library): examples for profiles of
# one's own (lquant --target FILE.json).
install(FILES ${LQ_TARGET_PROFILE_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/libquant/targets)
