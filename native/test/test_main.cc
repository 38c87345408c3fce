// Runs every registered native unit test; prints one line per failure and "unit: N passed, M failed".
#include <cstdlib>

#include "harness.h"

namespace tt {
std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
int g_failures = 0;
}  // namespace tt

int main(int argc, char** argv) {
  const char* only = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const tt::TestCase& t : tt::registry()) {
    if (only && std::strstr(t.name, only) == nullptr) continue;
    tt::g_failures = 0;
    t.fn();
    if (tt::g_failures) {
      std::fprintf(stderr, "FAIL %s\n", t.name);
      failed++;
    } else {
      passed++;
    }
  }
  std::printf("unit: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
