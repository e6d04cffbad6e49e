# Install rules: headers, the exported target incsync::incsync, a package
# config that finds Boost.JSON, Threads, SQLite3 and ZLIB (and libpq and
# hiredis for incsync::postgres and incsync::redis), and a version file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS incsync EXPORT incsync-targets)
if(INCSYNC_SCALE_OUT)
    install(TARGETS incsync_postgres incsync_redis EXPORT incsync-targets)
endif()
install(EXPORT incsync-targets NAMESPACE incsync:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/incsync)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/incsyncConfig.cmake.in
    ${PROJECT_BINARY_DIR}/incsyncConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/incsync)
# Header-only: any architecture may use the package.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/incsyncConfigVersion.cmake
    COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/incsyncConfig.cmake ${PROJECT_BINARY_DIR}/incsyncConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/incsync)
