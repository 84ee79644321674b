#!/usr/bin/env python3
"""Build the tokenizer conformance fixture for folio's text layer (tests/data/tokenizer/).

  python3 tools/make_tokenizer_fixture.py OUT_DIR     (needs Hugging Face `tokenizers`)

Writes, deterministically for a given --seed and `tokenizers` version:
  tokenizer.json          byte-level BPE (vocab ~4000) trained on a synthetic multilingual corpus, with
                          DeepSeek-OCR's exact pre-tokenizer Sequence (model doc 5.3), ByteLevel decoder,
                          BOS/EOS/pad, the OCR added tokens, and three extra added tokens that exercise
                          the lstrip / rstrip / single_word flags; a BOS TemplateProcessing post-processor.
  tokenizer_variant.json  the same model with a pre-tokenizer using the other Split behaviours
                          (Removed, MergedWithPrevious, MergedWithNext, Contiguous, invert, String
                          patterns) and ByteLevel(add_prefix_space, use_regex).
  encode.jsonl            {"t": text, "ids": [...]} per line, add_special_tokens=False
  encode_variant.jsonl    the same for tokenizer_variant.json (first N strings)
  decode.jsonl            {"ids": [...], "text": ..., "text_skip": ...} (skip_special_tokens False/True),
                          including byte tokens cut mid-character (invalid UTF-8).
The script is kept short on purpose: it is sent inline (compressed) to the machine that has `tokenizers`.
"""
import json, os, random, sys
from tokenizers import AddedToken as AT, Regex as R, Tokenizer, decoders, models, pre_tokenizers as P, processors, trainers

BIG = (r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|"
       r" ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")  # DeepSeek-V3 / DeepSeek-OCR (model doc 5.3)
SPECIAL = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"]
OCR = "<image> <|ref|> <|/ref|> <|det|> <|/det|> <|grounding|>".split()
TABLE = "<td> </td> <tr> </tr>".split()
# Pieces the text generator draws from: words, added tokens and near misses, punctuation, spaces.
WORDS = ("the of and to is for it on not this are from document table figure page value model OCR Hello "
         "don't it's I'm you'll HTTP GPU wordtok <|ref <|det| <image <td <｜begin▁of xwordtok _wordtok").split()
PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~，。、；：？！“”（）《》【】…—·"
SPACES = [" ", "  ", "\t", "\n", "\n\n", "\r\n", " \n", "\u3000", "\xa0", "\r", " \r\n\r\n", "\t\t "]
# (first code point, count): CJK ideographs, kana, hangul, cyrillic, greek, arabic, devanagari,
# fullwidth and circled digits, emoji, CJK punctuation, combining marks / ZWJ / variation selector.
RANGES = [(0x4E00, 300), (0x3041, 180), (0xAC00, 200), (0x430, 32), (0x3B1, 25), (0x627, 36), (0x915, 30),
          (0xFF10, 10), (0x2460, 20), (0x1F600, 40), (0x3000, 18), (0x300, 40), (0x200B, 5), (0xFE0E, 2)]


def piece(r):
    k, n = r.randrange(12), r.randrange(1, 8)
    if k < 3:
        return " ".join(r.choices(WORDS, k=n))
    if k < 6:
        a, m = r.choice(RANGES)
        return "".join(chr(a + r.randrange(m)) for _ in range(n))
    if k < 9:
        return [str(r.randrange(10 ** (2 * n))) + ".5%", "".join(r.choices(PUNCT, k=n)), r.choice(SPACES)][k - 6]
    if k == 9:
        return r.choice(SPECIAL + OCR + TABLE + ["<mask>", "<sep>"])
    if k == 10:
        return "<tr>" + "".join(f"<td>{piece(r)}</td>" for _ in range(n)) + "</tr>"
    return f"<|ref|>{r.choice(WORDS)}<|/ref|><|det|>[[{r.randrange(999)}, {n}, 3, 999]]<|/det|>\n"


def text(r, n=6):
    return r.choice(["", " ", "\n"]).join(piece(r) for _ in range(r.randrange(1, n)))


def main():
    out, r = sys.argv[1], random.Random(20240611)  # fixed seed: the fixture is reproducible
    os.makedirs(out, exist_ok=True)

    def dump(name, rows):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.writelines(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in rows)

    def encodings(t, strings):
        return ({"t": s, "ids": t.encode(s, add_special_tokens=False).ids} for s in strings)

    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = P.Sequence([P.Split(R(r"\p{N}{1,3}"), "isolated"), P.Split(R("[一-龥぀-ゟ゠-ヿ]+"), "isolated"),
                                    P.Split(R(BIG), "isolated"), P.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([text(r, 12) for _ in range(30000)], trainers.BpeTrainer(
        vocab_size=4000, show_progress=False, initial_alphabet=P.ByteLevel.alphabet(),
        special_tokens=[AT(t, special=True, normalized=False) for t in SPECIAL]))
    tok.add_special_tokens([AT(t, special=True, normalized=False) for t in OCR])
    tok.add_tokens([AT(t, normalized=True) for t in TABLE] + [AT("<mask>", lstrip=True, normalized=False, special=True),
                   AT("<sep>", rstrip=True, normalized=False, special=True), AT("wordtok", single_word=True)])
    tok.post_processor = processors.TemplateProcessing(single=SPECIAL[0] + " $A", special_tokens=[(SPECIAL[0], 0)])
    tok.save(out + "/tokenizer.json")
    strings = ["", " \t \n ", "a", "Hello  world  ", " <mask> x", "a<sep>  b", "a wordtok b", "e\u0301"]
    strings += [text(r) for _ in range(10500)]
    dump("encode.jsonl", encodings(tok, strings))

    # The same model behind a pre-tokenizer that uses every other Split behaviour.
    var = Tokenizer.from_str(tok.to_str())
    var.pre_tokenizer = P.Sequence([P.Split(" ", "merged_with_next"), P.Split(R("[,;]"), "removed"),
                                    P.Split(R("[.!?]+"), "merged_with_previous"), P.Split(R(r"\p{L}+"), "contiguous", invert=True),
                                    P.Split("-", "isolated", invert=True), P.ByteLevel(add_prefix_space=True, use_regex=True)])
    var.save(out + "/tokenizer_variant.json")
    dump("encode_variant.jsonl", encodings(var, strings[:1500]))

    size = tok.get_vocab_size()
    bytes_ = [i for i in range(size) if len(tok.id_to_token(i) or "") == 1]

    def decode_case(i):
        ids = tok.encode(r.choice(strings)).ids  # BOS + a full encoding
        s = r.randrange(len(ids))
        # a slice (often cutting a character in two), random ids, random byte tokens (invalid UTF-8)
        ids = [ids, ids[s:s + i % 8 + 1], r.choices(range(size), k=i % 9 + 1), r.choices(bytes_, k=i % 7 + 1)][i % 4]
        return {"ids": ids, "text": tok.decode(ids, skip_special_tokens=False), "text_skip": tok.decode(ids)}
    dump("decode.jsonl", map(decode_case, range(800)))
    print(os.listdir(out), size)


if __name__ == "__main__":
    main()
