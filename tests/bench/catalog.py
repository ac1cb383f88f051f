"""A deterministic product catalog CSV generator (benchmarks, e2e tests, demos)."""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

HEADER = ["sku", "name", "description", "price", "currency", "quantity", "active", "brand", "category",
          "barcode", "color"]
_WORDS = ("steel", "cotton", "wireless", "ergonomic", "compact", "vintage", "organic", "premium", "solar",
          "portable", "classic", "smart", "modular", "heavy-duty", "lightweight", "waterproof", "bamboo",
          "ceramic", "carbon", "linen", "walnut", "copper", "granite", "velvet", "titanium", "recycled")
_NOUNS = ("lamp", "chair", "kettle", "backpack", "headphones", "desk", "mug", "jacket", "drill", "watch",
          "speaker", "sofa", "bottle", "blender", "rug", "tent", "keyboard", "monitor", "shelf", "pan")
_BRANDS = [f"Brand {c}" for c in "ABCDEFGHIJKLMNOPQRST"]
_CATEGORIES = ("Home", "Garden", "Kitchen", "Outdoor", "Office", "Audio", "Apparel", "Tools", "Sports", "Toys")
_COLORS = ("red", "green", "blue", "black", "white", "grey", "navy", "olive")


def _description(rng: random.Random) -> str:
    target = rng.randint(50, 300)
    words: list[str] = []
    length = 0
    while length < target:
        word = rng.choice(_WORDS) if rng.random() < 0.6 else rng.choice(_NOUNS)
        if rng.random() < 0.08:
            word += ","  # quoted commas in some descriptions
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:target].strip()


def write_catalog(path: Path, rows: int, *, seed: int = 42, price_factor: float = 1.0,
                  bad_every: int = 0) -> Path:
    """Write ``rows`` products to ``path``. ``price_factor`` changes every price (update passes);
    ``bad_every`` > 0 makes every n-th row invalid (negative price) to exercise row errors."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            base_price = rng.randint(100, 99999) / 100
            price = f"{base_price * price_factor:.2f}"
            if bad_every and i % bad_every == 0:
                price = "-1"
            noun = rng.choice(_NOUNS)
            writer.writerow([
                f"SKU-{i:08d}",
                f"{rng.choice(_WORDS).title()} {noun} {i}",
                _description(rng),
                price,
                "USD" if rng.random() < 0.8 else "EUR",
                rng.randint(0, 5000),
                "true" if rng.random() < 0.9 else "false",
                rng.choice(_BRANDS),
                rng.choice(_CATEGORIES),
                f"{rng.randrange(10**12, 10**13)}",
                rng.choice(_COLORS),
            ])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate a deterministic product catalog CSV.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--price-factor", type=float, default=1.0)
    parser.add_argument("--bad-every", type=int, default=0)
    args = parser.parse_args()
    write_catalog(args.path, args.rows, seed=args.seed, price_factor=args.price_factor, bad_every=args.bad_every)


if __name__ == "__main__":
    main()
