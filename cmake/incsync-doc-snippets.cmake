# Every C++ snippet in the documentation compiles: one CTest test per fenced
# ```cpp (or ```c++) block of the given Markdown files.
#
#   incsync_add_doc_snippet_tests(<target> <file.md>...)
#
# At configure time each block is written to
# ${CMAKE_CURRENT_BINARY_DIR}/doc_snippets/<md name>_<line>.cpp, where <line>
# is the line of the opening fence, behind `#line` directives so that a
# compiler error points into the Markdown file. The test docs.<md name>_<line>
# runs the C++ compiler on it with -std=c++20 -fsyntax-only -Wall -Wextra
# -Wpedantic -Werror and the include directories and compile definitions of
# <target> and of the targets it links (incsync::incsync: Boost, SQLite).
# GCC instantiates templates at -fsyntax-only, so type errors inside
# instantiations fail the test too. Editing a Markdown file re-runs the
# extraction (CMAKE_CONFIGURE_DEPENDS).
#
# The convention for writers:
# - A cpp block is a complete translation unit: its own #includes, then
#   declarations, functions or a main(). Nothing is added to it.
# - A block that deliberately is a function body is marked on the line right
#   before its fence:
#       <!-- snippet: fragment -->
#   Its leading preprocessor and blank lines (#include ...) stay at file
#   scope; the rest is wrapped into `int snippet() { ... return 0; }` (so a
#   `return 1;` on an error path compiles). Namespace aliases and
#   using-directives are fine inside it; anything else it names must be
#   declared in it or in its headers.
# - A block that continues the previous complete block of the same page (a
#   declaration explained step by step) is marked
#       <!-- snippet: continues -->
#   and compiled appended to that block (and to what that block continued).
# - Anything that is not C++ (shell sessions, output, JSON) is not tagged cpp.
# Nothing is skipped silently: an unknown `<!-- snippet: ... -->` marker, a
# marker not followed by a cpp fence, or an unterminated block stops the
# configuration with the file and line.

# Splits `text` into a list of lines without CMake's list rules getting in the
# way: `;`, `[`, `]` and `\` are swapped for placeholders (restored by
# _incsync_doc_restore) so that C++ lines survive as list elements.
function(_incsync_doc_split_lines text out_var)
    string(ASCII 1 semi)
    string(ASCII 2 open)
    string(ASCII 3 close)
    string(ASCII 4 backslash)
    string(REPLACE "\\" "${backslash}" text "${text}")
    string(REPLACE ";" "${semi}" text "${text}")
    string(REPLACE "[" "${open}" text "${text}")
    string(REPLACE "]" "${close}" text "${text}")
    string(ASCII 5 mark)
    string(REPLACE "\r\n" "\n" text "${text}")
    # Every line ends with a mark: an empty line is no empty list element,
    # which list operations could drop.
    string(REPLACE "\n" "${mark};" text "${text}")
    set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# One element of _incsync_doc_split_lines' list back to its text.
function(_incsync_doc_restore line out_var)
    string(ASCII 1 semi)
    string(ASCII 2 open)
    string(ASCII 3 close)
    string(ASCII 4 backslash)
    string(ASCII 5 mark)
    string(REPLACE "${mark}" "" line "${line}")
    string(REPLACE "${semi}" ";" line "${line}")
    string(REPLACE "${open}" "[" line "${line}")
    string(REPLACE "${close}" "]" line "${line}")
    string(REPLACE "${backslash}" "\\" line "${line}")
    set(${out_var} "${line}" PARENT_SCOPE)
endfunction()

# The C++ text of one block: `lines` (split form) from line `first` of
# `md_path`, behind a #line directive; a "fragment" has its body wrapped into
# a function.
function(_incsync_doc_snippet_text md_path first kind lines out_var)
    set(text "")
    if(kind STREQUAL "fragment")
        # Leading preprocessor and blank lines stay at file scope.
        set(head "")
        set(body "")
        set(body_start ${first})
        set(in_head TRUE)
        foreach(raw IN LISTS lines)
            _incsync_doc_restore("${raw}" line)
            if(in_head AND (line MATCHES "^[ \t]*#" OR line MATCHES "^[ \t]*$"))
                string(APPEND head "${line}\n")
                math(EXPR body_start "${body_start} + 1")
            else()
                set(in_head FALSE)
                string(APPEND body "${line}\n")
            endif()
        endforeach()
        string(APPEND text "#line ${first} \"${md_path}\"\n${head}")
        string(APPEND text "int snippet();\nint snippet()\n{\n#line ${body_start} \"${md_path}\"\n${body}")
        string(APPEND text "return 0;\n}\n")
    else()
        string(APPEND text "#line ${first} \"${md_path}\"\n")
        foreach(raw IN LISTS lines)
            _incsync_doc_restore("${raw}" line)
            string(APPEND text "${line}\n")
        endforeach()
    endif()
    set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# Writes `text` to `file` unless it already holds it (a test's input keeps its
# time stamp when nothing changed).
function(_incsync_doc_write file text)
    if(EXISTS ${file})
        file(READ ${file} old)
        if(old STREQUAL text)
            return()
        endif()
    endif()
    file(WRITE ${file} "${text}")
endfunction()

# The compile flags of `target` and of every target it links, transitively,
# as generator expressions (evaluated when the test runs).
function(_incsync_doc_usage_targets target out_var)
    set(seen ${${out_var}})
    if(NOT TARGET ${target})
        return()
    endif()
    get_target_property(aliased ${target} ALIASED_TARGET)
    if(aliased)
        set(target ${aliased})
    endif()
    if(target IN_LIST seen)
        return()
    endif()
    list(APPEND seen ${target})
    get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
    if(links)
        foreach(link IN LISTS links)
            if(NOT link MATCHES "[$<>]" AND TARGET ${link})
                _incsync_doc_usage_targets(${link} seen)
            endif()
        endforeach()
    endif()
    set(${out_var} ${seen} PARENT_SCOPE)
endfunction()

function(incsync_add_doc_snippet_tests target)
    set(usage "")
    _incsync_doc_usage_targets(${target} usage)
    if(NOT usage)
        message(FATAL_ERROR "incsync_add_doc_snippet_tests: ${target} is not a target")
    endif()
    get_target_property(aliased ${target} ALIASED_TARGET)
    if(aliased)
        set(target ${aliased})
    endif()
    set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror)
    # `$<SEMICOLON>`, not `;`: a literal `;` would split these generator
    # expressions into several list elements; evaluated, COMMAND_EXPAND_LISTS
    # turns each of them into separate arguments. Reading an INTERFACE_*
    # property through $<TARGET_PROPERTY> collects it transitively.
    set(sep "$<SEMICOLON>")
    # The compiler's own directories are left out, as CMake does: given as
    # -isystem, /usr/include breaks libstdc++'s #include_next <stdlib.h>.
    set(implicit "")
    foreach(d IN LISTS CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
        string(REGEX REPLACE "([][.+*?^$(){}|\\\\])" "\\\\\\1" d "${d}")
        string(REPLACE "," "$<COMMA>" d "${d}")
        string(REPLACE ">" "$<ANGLE-R>" d "${d}")
        list(APPEND implicit "${d}")
    endforeach()
    list(JOIN implicit "|" implicit)
    set(inc "$<TARGET_PROPERTY:${target},INTERFACE_INCLUDE_DIRECTORIES>")
    set(dep "")
    foreach(t IN LISTS usage)
        get_target_property(imported ${t} IMPORTED)
        if(imported)
            string(APPEND dep "${sep}$<TARGET_PROPERTY:${t},INTERFACE_INCLUDE_DIRECTORIES>")
        endif()
    endforeach()
    if(implicit)
        set(inc "$<FILTER:${inc},EXCLUDE,^(${implicit})/?$>")
        set(dep "$<FILTER:${dep},EXCLUDE,^(${implicit})/?$>")
    endif()
    set(inc "$<REMOVE_DUPLICATES:${inc}>")
    set(dep "$<REMOVE_DUPLICATES:${dep}>")
    set(defs "$<REMOVE_DUPLICATES:$<TARGET_PROPERTY:${target},INTERFACE_COMPILE_DEFINITIONS>>")
    set(opts "$<TARGET_PROPERTY:${target},INTERFACE_COMPILE_OPTIONS>")
    # The dependencies' headers are system headers (-isystem wins over -I),
    # as CMake passes the include directories of imported targets.
    list(APPEND flags "$<$<BOOL:${inc}>:-I$<JOIN:${inc},${sep}-I>>"
                      "$<$<BOOL:${dep}>:-isystem${sep}$<JOIN:${dep},${sep}-isystem${sep}>>"
                      "$<$<BOOL:${defs}>:-D$<JOIN:${defs},${sep}-D>>"
                      "${opts}")

    set(dir ${CMAKE_CURRENT_BINARY_DIR}/doc_snippets)
    file(MAKE_DIRECTORY ${dir})
    set(written "")
    foreach(md IN LISTS ARGN)
        get_filename_component(md ${md} ABSOLUTE)
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${md})
        get_filename_component(name ${md} NAME_WE)
        file(RELATIVE_PATH shown ${PROJECT_SOURCE_DIR} ${md})
        file(READ ${md} content)
        _incsync_doc_split_lines("${content}" all_lines)

        set(n 0)
        set(in_block FALSE)
        set(marker "")
        set(marker_line 0)
        set(chain "")
        foreach(raw IN LISTS all_lines)
            math(EXPR n "${n} + 1")
            _incsync_doc_restore("${raw}" line)
            if(in_block)
                if(line MATCHES "^${indent}```[ \t]*$")
                    _incsync_doc_snippet_text(${md} ${first} "${kind}" "${block}" code)
                    if(kind STREQUAL "continues")
                        if(chain STREQUAL "")
                            message(FATAL_ERROR "${shown}:${fence}: `<!-- snippet: continues -->` needs a complete cpp block (not a fragment) before it in the same file")
                        endif()
                        set(code "${chain}${code}")
                    endif()
                    # A fragment cannot be continued: its body is inside a function.
                    if(kind STREQUAL "fragment")
                        set(chain "")
                    else()
                        set(chain "${code}")
                    endif()
                    set(file ${dir}/${name}_${fence}.cpp)
                    _incsync_doc_write(${file} "// Extracted from ${shown} (line ${fence}) by cmake/incsync-doc-snippets.cmake.\n${code}")
                    list(APPEND written ${file})
                    set(test docs.${name}_${fence})
                    add_test(NAME ${test}
                             COMMAND ${CMAKE_CXX_COMPILER} ${flags} ${file}
                             COMMAND_EXPAND_LISTS)
                    set_tests_properties(${test} PROPERTIES TIMEOUT 300 LABELS docs)
                    set(in_block FALSE)
                else()
                    # Strip the fence's indentation (a block inside a list item).
                    if(indent AND raw MATCHES "^${indent}")
                        string(LENGTH "${indent}" cut)
                        string(SUBSTRING "${raw}" ${cut} -1 raw)
                    endif()
                    list(APPEND block "${raw}")
                endif()
                continue()
            endif()
            if(line MATCHES "^([ ]*)```[ \t]*(cpp|c\\+\\+)([ \t].*)?$")
                set(indent "${CMAKE_MATCH_1}")
                set(in_block TRUE)
                set(fence ${n})
                math(EXPR first "${n} + 1")
                set(block "")
                set(kind "${marker}") # a marker is always on the line before (checked below)
                set(marker "")
                continue()
            endif()
            if(NOT marker STREQUAL "")
                message(FATAL_ERROR "${shown}:${marker_line}: `<!-- snippet: ${marker} -->` must be the line right before a ```cpp fence")
            endif()
            if(line MATCHES "^[ \t]*<!--[ \t]*snippet:[ \t]*([^ \t]*)[ \t]*-->[ \t]*$")
                set(marker "${CMAKE_MATCH_1}")
                set(marker_line ${n})
                if(NOT marker MATCHES "^(fragment|continues)$")
                    message(FATAL_ERROR "${shown}:${n}: unknown snippet marker `${marker}` (known: fragment, continues)")
                endif()
            endif()
        endforeach()
        if(in_block)
            message(FATAL_ERROR "${shown}:${fence}: the ```cpp block is not closed")
        endif()
        if(NOT marker STREQUAL "")
            message(FATAL_ERROR "${shown}:${marker_line}: `<!-- snippet: ${marker} -->` is not followed by a ```cpp fence")
        endif()
    endforeach()

    # Snippets of blocks that are gone.
    file(GLOB old ${dir}/*.cpp)
    foreach(f IN LISTS old)
        if(NOT f IN_LIST written)
            file(REMOVE ${f})
        endif()
    endforeach()
endfunction()
