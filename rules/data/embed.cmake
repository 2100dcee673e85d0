# Turns a data file into a .cpp holding its bytes, so the shipped data is part of the binary.
# Usage: cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DSYMBOL=<name> -P embed.cmake
# Defines `const std::string_view gwprobe::rules::data::<SYMBOL>` (declared in embedded_data.hpp).
# A byte array, not a raw string literal: no delimiter can clash with the data.
foreach(var INPUT OUTPUT SYMBOL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed.cmake: -D${var}=... is required")
  endif()
endforeach()
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# 24 bytes per line keeps the generated file readable in a debugger or a diff.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n    " bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}.tmp"
"// Generated from rules/data/${input_name} by rules/data/embed.cmake. Do not edit.
#include \"rules/data/embedded_data.hpp\"

namespace gwprobe::rules::data {
namespace {
// unsigned: UTF-8 bytes above 0x7f do not fit a signed char initializer.
const unsigned char k_bytes[${size} + 1] = {
    ${bytes}0x00};
}  // namespace
const std::string_view ${SYMBOL}(reinterpret_cast<const char*>(k_bytes), ${size});
}  // namespace gwprobe::rules::data
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
