# IOD validation tables (src/series) generated from the machine-readable PS3.3
# installed by Debian's libgdcm3.0 and from data/standard.
set(MEDSEAL_PART3_XML /usr/share/gdcm-3.0/XML/Part3.xml CACHE FILEPATH
    "GDCM's machine-readable PS3.3 (Part3.xml), input of tools/gen_iod.py")
if(NOT EXISTS ${MEDSEAL_PART3_XML})
  message(FATAL_ERROR "${MEDSEAL_PART3_XML} not found: install libgdcm3.0 (tools/install-deps.sh)")
endif()
add_custom_command(
  OUTPUT ${GEN_DIR}/iod_tables.c
  COMMAND Python3::Interpreter ${CMAKE_SOURCE_DIR}/tools/gen_iod.py ${MEDSEAL_PART3_XML}
          ${CMAKE_SOURCE_DIR}/data/standard ${GEN_DIR}/iod_tables.c
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/gen_iod.py ${MEDSEAL_PART3_XML}
          ${CMAKE_SOURCE_DIR}/data/standard/sops.json ${CMAKE_SOURCE_DIR}/data/standard/ciods.json ${CMAKE_SOURCE_DIR}/data/standard/ciod_to_modules.json ${CMAKE_SOURCE_DIR}/data/standard/modules.json
          ${CMAKE_SOURCE_DIR}/data/standard/macros.json
          ${CMAKE_SOURCE_DIR}/data/standard/ciod_to_func_group_macros.json
          ${CMAKE_SOURCE_DIR}/data/standard/attributes.json
  COMMENT "Generating the IOD module tables from PS3.3")
list(APPEND MEDSEAL_GENERATED_SOURCES ${GEN_DIR}/iod_tables.c)
