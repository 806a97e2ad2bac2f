"""Create the tokenizer and model this service loads, in ./model.

Nothing is downloaded from a model hub: a WordPiece tokenizer is trained on the
sentences below with the `tokenizers` library, and a tiny BERT classifier gets
seeded random weights.
"""

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

OUT_DIR = Path(__file__).resolve().parent / "model"
MAX_LENGTH = 64
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

SENTENCES = [
    "The delivery was fast and the support team was friendly.",
    "I love this product, it works exactly as described.",
    "Great value for the money, would buy again.",
    "The battery lasts all day and the screen is bright.",
    "Terrible experience, the package arrived broken.",
    "The app keeps crashing and nobody answers my emails.",
    "Not worth the price, the quality is poor.",
    "I waited three weeks and then the order was cancelled.",
    "It is okay, nothing special but it does the job.",
    "Setup took five minutes and everything just worked.",
]


def build_tokenizer() -> BertTokenizerFast:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=300, min_frequency=1, special_tokens=SPECIAL_TOKENS)
    tok.train_from_iterator(SENTENCES, trainer=trainer)

    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return BertTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_LENGTH,
    )


def main() -> None:
    tokenizer = build_tokenizer()

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForSequenceClassification(config).eval()

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(OUT_DIR)
    model.save_pretrained(OUT_DIR)
    print(f"wrote tokenizer (vocab {len(tokenizer)}) and model to {OUT_DIR}")


if __name__ == "__main__":
    main()
