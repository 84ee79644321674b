// Repetition control (model doc section 6) and why generation ended.
//
// banned_next: the official windowed n-gram ban (DeepSeek-OCR vLLM NoRepeatNGramLogitsProcessor),
// applied to the GENERATED ids only (never the prompt). With o = generated, n = o.size(),
// N = ngram size, W = window: if n >= N, prefix = last N-1 ids; for every start
// i in [max(0, n-W), n-N] with o[i..i+N-2] == prefix, ban o[i+N-1]; whitelisted ids are never
// banned. Returns the banned ids sorted and unique. Pure; O(W*N).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace folio {

inline constexpr int kDefaultNgramSize = 30;
inline constexpr int kDefaultNgramWindow = 90;
inline const std::vector<int32_t> kDefaultNgramWhitelist = {128821, 128822};  // <td>, </td>

std::vector<int32_t> banned_next(const std::vector<int32_t>& generated, int ngram_size, int window,
                                 const std::vector<int32_t>& whitelist = kDefaultNgramWhitelist);

enum class FinishReason { stop, length, repetition, cancelled, error };

// "stop", "length", "repetition", "cancelled", "error".
std::string_view to_string(FinishReason reason);

}  // namespace folio
