# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE).
if(NOT CPACK_VIGIL_PACKAGE OR NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "vigil: packages come from a tree configured with -DVIGIL_PACKAGE=ON "
                      "(prefix /usr); this one has prefix ${CPACK_PACKAGING_INSTALL_PREFIX}")
endif()
