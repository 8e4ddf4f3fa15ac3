// fas_native_tests [--list | --run NAME]: with no argument runs every case.
#include <cstdio>
#include <cstring>
#include <exception>

#include "test.h"

int main(int argc, char** argv) {
  auto& cases = fas::test::registry();
  if (argc > 1 && std::strcmp(argv[1], "--list") == 0) {
    for (const auto& c : cases) std::printf("%s\n", c.name.c_str());
    return 0;
  }
  const char* only = (argc > 2 && std::strcmp(argv[1], "--run") == 0) ? argv[2] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& c : cases) {
    if (only && c.name != only) continue;
    try {
      c.body();
      ++passed;
      std::printf("ok   %s\n", c.name.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL %s\n     %s\n", c.name.c_str(), e.what());
    }
  }
  if (only && passed + failed == 0) {
    std::printf("no test named %s\n", only);
    return 2;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
