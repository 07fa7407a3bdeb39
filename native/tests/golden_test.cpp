// Every golden case computed by PyTorch (src/test/resources/golden) through the C++ API, once per
// CPU algorithm that runs it: one named test per case x algorithm, e.g.
// Golden/GoldenTest.MatchesPyTorch/lstm_l2_b8_t32_i64_h128__team. Tolerances: float32 within 5e-6
// max abs, float64 within 1e-12.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "golden_case.h"

namespace fs = std::filesystem;
using lstm4j::Algorithm;

namespace {

struct GoldenRun {
  std::string file, name;
  Algorithm algorithm;
};

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::kScan: return "scan";
    case Algorithm::kOneDnn: return "onednn";
    case Algorithm::kTeam: return "team";
    case Algorithm::kDevice: return "device";
    default: return "auto";
  }
}

// Cases x algorithms: float32 LSTMs run the LibTorch-GEMM scan, oneDNN's layer, the team scan and
// the device scan (on LibTorch's CPU operations); float64 LSTMs the automatic choice (the team
// scan), the scan (packed cases run the team scan) and the device scan; cells their one path.
std::vector<GoldenRun> golden_runs() {
  std::vector<GoldenRun> runs;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(LSTM4J_GOLDEN_DIR)) {
    if (e.path().extension() == ".safetensors") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    const std::string stem = p.stem().string();
    std::vector<Algorithm> algorithms;
    if (stem.rfind("cell", 0) == 0) {
      algorithms = {Algorithm::kAuto};
    } else if (stem.rfind("f64", 0) == 0) {
      algorithms = {Algorithm::kAuto, Algorithm::kScan, Algorithm::kDevice};
    } else {
      algorithms = {Algorithm::kScan, Algorithm::kOneDnn, Algorithm::kTeam, Algorithm::kDevice};
    }
    for (Algorithm a : algorithms) {
      runs.push_back({p.string(), stem + "__" + algorithm_name(a), a});
    }
  }
  return runs;
}

// Names the run in test output instead of dumping its bytes.
void PrintTo(const GoldenRun& run, std::ostream* os) { *os << run.name; }

class GoldenTest : public testing::TestWithParam<GoldenRun> {};

TEST_P(GoldenTest, MatchesPyTorch) {
  const lstm4j::test::StFile f = lstm4j::test::read_safetensors(GetParam().file);
  const double err = lstm4j::golden::case_error(f, GetParam().algorithm);
  RecordProperty("max_abs_err", std::to_string(err));
  EXPECT_LE(err, lstm4j::golden::tolerance(f)) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, testing::ValuesIn(golden_runs()),
                         [](const testing::TestParamInfo<GoldenRun>& info) { return info.param.name; });

// The file name says the dtype; the metadata must agree, or a case would run under the wrong
// tolerance and algorithms.
TEST(GoldenCases, AllPresentAndNamedByDtype) {
  int files = 0;
  for (const auto& e : fs::directory_iterator(LSTM4J_GOLDEN_DIR)) {
    if (e.path().extension() != ".safetensors") continue;
    ++files;
    const lstm4j::test::StFile f = lstm4j::test::read_safetensors(e.path().string());
    const std::string stem = e.path().stem().string();
    EXPECT_EQ(stem.rfind("f64", 0) == 0, f.meta("dtype") == "float64") << stem;
    EXPECT_EQ(stem.rfind("cell", 0) == 0, f.meta("kind") == "cell") << stem;
  }
  EXPECT_EQ(files, 21) << "golden cases in " << LSTM4J_GOLDEN_DIR;
}

}  // namespace
