// Choosing the next token from the logits. Greedy only: the official decoding is
// temperature 0.
#pragma once
#include <cstdint>
#include <vector>

namespace folio {

// Index of the largest logit; ties go to the lowest id, like torch.argmax.
int32_t argmax(const std::vector<float>& logits);
// argmax after setting the `banned` ids (e.g. from the n-gram ban) to -inf in place.
int32_t greedy_pick(std::vector<float>& logits, const std::vector<int32_t>& banned);

}  // namespace folio
