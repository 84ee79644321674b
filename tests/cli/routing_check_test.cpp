// Near-tied expert choices in conformance (cli/routing_check.h): a row chosen differently from the
// fp32 reference follows the reference only when its margin is within twice the device's router
// error; any other difference fails the check and is left as the device chose.
#include "cli/routing_check.h"

#include <cmath>

#include <gtest/gtest.h>

namespace folio {
namespace {

// Router = identity over 4 experts, so each row of xn is its own logits. The reference pass of
// MoE layer 1 records the choices below as an fp32 reference made them; each test then runs a
// device pass with its own ids/weights.
class RoutingCheckTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> be = make_backend("cpu");
  Tensor xn = Tensor::empty({3, 4}, DType::kF32), router = Tensor::empty({4, 4}, DType::kF32);
  std::vector<int32_t> ids{0, 1, 0, 1, 2, 3};  // top-2 of each row below
  std::vector<float> weights;
  RoutingCheck check;

  void SetUp() override {
    const float logits[3][4] = {{3, 2, 0, 0}, {3, 1.0f, 0.999f, 0}, {0, 0, 3, 2}};
    for (int r = 0; r < 3; ++r) {
      double z = 0;
      for (float l : logits[r]) z += std::exp(double(l));
      for (int e = 0; e < 4; ++e) xn.data<float>()[r * 4 + e] = logits[r][e];
      for (int j = 0; j < 2; ++j) weights.push_back(float(std::exp(double(logits[r][ids[r * 2 + j]])) / z));
    }
    for (int e = 0; e < 16; ++e) router.data<float>()[e] = e % 5 == 0 ? 1.f : 0.f;
    std::vector<int32_t> ref_ids = ids;
    std::vector<float> ref_w = weights;
    check.recorder(*be)(1, xn, router, ref_ids, ref_w);
  }
  void device(std::vector<int32_t>& dev_ids, std::vector<float>& dev_w) { check.forcer()(1, xn, router, dev_ids, dev_w); }
};

TEST_F(RoutingCheckTest, NearTiedRowFollowsTheReference) {
  // Weights off by 0.01 where the device agrees, expert 2 instead of 1 in the near-tied row 1.
  std::vector<int32_t> dev_ids = ids;
  std::vector<float> dev_w = weights;
  for (float& v : dev_w) v += 0.01f;
  dev_ids[3] = 2;
  device(dev_ids, dev_w);
  EXPECT_TRUE(check.pass()) << check.summary();
  EXPECT_EQ(check.near_ties(), 1);
  EXPECT_EQ(dev_ids, ids);                       // the tied row now has the reference's experts
  EXPECT_FLOAT_EQ(dev_w[3], weights[3]);         // and its weights
  EXPECT_FLOAT_EQ(dev_w[0], weights[0] + 0.01f); // agreeing rows are left alone
  EXPECT_NE(check.summary().find("1 of 3 rows near-tied"), std::string::npos) << check.summary();
}

TEST_F(RoutingCheckTest, ClearChoiceMadeDifferentlyFails) {
  std::vector<int32_t> dev_ids = ids;
  std::vector<float> dev_w = weights;
  dev_ids[4] = 0;  // row 2: expert 0 (probability ~0.04) over expert 2 (~0.7): no tie
  device(dev_ids, dev_w);
  EXPECT_FALSE(check.pass());
  EXPECT_EQ(check.near_ties(), 0);
  EXPECT_EQ(dev_ids[4], 0);  // left as the device chose
  EXPECT_NE(check.summary().find("beyond it"), std::string::npos) << check.summary();
}

TEST_F(RoutingCheckTest, LayerWithoutReferenceIsAnError) {
  EXPECT_THROW(check.forcer()(2, xn, router, ids, weights), std::exception);
  EXPECT_FALSE(check.pass());  // nothing compared is not a pass
}

}  // namespace
}  // namespace folio
