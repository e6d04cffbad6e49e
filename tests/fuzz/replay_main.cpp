// Replays inputs through a fuzz target without libFuzzer, with any compiler:
// every file named on the command line, and every file of every directory
// named (sorted, not recursive), is passed to LLVMFuzzerTestOneInput once.
// The test suite runs it over tests/fuzz/corpus/<target>/, so every input
// that ever crashed a target (each one is added there) keeps passing.
#include "fuzz.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg = argv[i];
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            std::vector<fs::path> in_dir;
            for (const auto& entry : fs::directory_iterator(arg))
                if (entry.is_regular_file()) in_dir.push_back(entry.path());
            std::sort(in_dir.begin(), in_dir.end());
            files.insert(files.end(), in_dir.begin(), in_dir.end());
        } else if (fs::is_regular_file(arg, ec)) {
            files.push_back(arg);
        } else {
            std::cerr << argv[0] << ": no such file or directory: " << arg.string() << '\n';
            return 2;
        }
    }
    if (files.empty()) {
        std::cerr << "usage: " << argv[0] << " <corpus directory or input file>...\n"
                  << "(no inputs found: an empty corpus tests nothing)\n";
        return 2;
    }
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in && !in.eof()) {
            std::cerr << argv[0] << ": cannot read " << file.string() << '\n';
            return 2;
        }
        // Named first, so the input a crash or a failed check stops on is known.
        std::cout << file.string() << std::endl;
        // A buffer of exactly the input's size, as libFuzzer passes it, so a
        // sanitizer catches a read past its end.
        const std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
        LLVMFuzzerTestOneInput(copy.data(), copy.size());
    }
    std::cout << argv[0] << ": replayed " << files.size() << " inputs\n";
    return 0;
}
