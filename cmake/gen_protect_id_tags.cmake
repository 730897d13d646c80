# The identifying attributes of the otp and stego schemes, from PS3.15 Table E.1-1.
add_custom_command(
  OUTPUT ${GEN_DIR}/protect_id_tags.inc
  COMMAND Python3::Interpreter ${CMAKE_SOURCE_DIR}/tools/gen_protect_id_tags.py
          ${CMAKE_SOURCE_DIR}/data/standard/confidentiality_profile_attributes.json
          ${GEN_DIR}/protect_id_tags.inc
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/gen_protect_id_tags.py
          ${CMAKE_SOURCE_DIR}/data/standard/confidentiality_profile_attributes.json
  COMMENT "Generating the identifying attributes of the otp and stego schemes")
list(APPEND MEDSEAL_GENERATED_SOURCES ${GEN_DIR}/protect_id_tags.inc)
