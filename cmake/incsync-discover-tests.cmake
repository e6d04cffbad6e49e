# Run by ctest (TEST_INCLUDE_FILES), not by cmake: asks a Boost.Test
# executable for its test tree and adds one test per top-level unit, named
# <prefix>.<unit> (unit.codec_suite, integration.pull_suite, ...).
# In: incsync_discover_exe, incsync_discover_prefix, incsync_discover_timeout,
# incsync_discover_long_units (started first).
if(NOT EXISTS "${incsync_discover_exe}")
    # Not built yet: one entry that fails with "Could not find executable".
    add_test(${incsync_discover_prefix} "${incsync_discover_exe}")
    return()
endif()

execute_process(COMMAND "${incsync_discover_exe}" --list_content
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
# Boost.Test prints the tree on stderr: top-level units unindented, "*" when enabled.
string(REPLACE "\n" ";" lines "${err}\n${out}")
set(units)
set(plain TRUE)
foreach(line IN LISTS lines)
    if(line MATCHES "^([^ \t].*)\\*$")
        list(APPEND units "${CMAKE_MATCH_1}")
        if(NOT CMAKE_MATCH_1 MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
            set(plain FALSE) # e.g. a template case "name<int>": no safe filter
        endif()
    endif()
endforeach()

if(NOT rc EQUAL 0 OR NOT units OR NOT plain)
    # Listing failed or is unusable: run everything as one test, which reports why.
    add_test(${incsync_discover_prefix} "${incsync_discover_exe}" --report_level=short)
    set_tests_properties(${incsync_discover_prefix} PROPERTIES TIMEOUT ${incsync_discover_timeout})
    return()
endif()
foreach(unit IN LISTS units)
    add_test(${incsync_discover_prefix}.${unit} "${incsync_discover_exe}" --run_test=${unit} --report_level=short)
    set_tests_properties(${incsync_discover_prefix}.${unit} PROPERTIES TIMEOUT ${incsync_discover_timeout})
    list(FIND incsync_discover_long_units "${unit}" long) # ctest runs this without CMP0057: no IN_LIST
    if(NOT long EQUAL -1)
        set_tests_properties(${incsync_discover_prefix}.${unit} PROPERTIES COST 1000)
    endif()
endforeach()
