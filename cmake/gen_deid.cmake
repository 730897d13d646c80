# De-identification actions (src/protect/deid*.c) generated from PS3.15 Table E.1-1.
add_custom_command(
  OUTPUT ${GEN_DIR}/deid_table.c
  COMMAND Python3::Interpreter ${CMAKE_SOURCE_DIR}/tools/gen_deid.py
          ${CMAKE_SOURCE_DIR}/data/standard ${GEN_DIR}/deid_table.c
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/gen_deid.py
          ${CMAKE_SOURCE_DIR}/data/standard/confidentiality_profile_attributes.json
  COMMENT "Generating the de-identification actions from PS3.15 Table E.1-1")
list(APPEND MEDSEAL_GENERATED_SOURCES ${GEN_DIR}/deid_table.c)
