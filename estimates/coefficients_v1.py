"""Coefficient set v1 as plain data: the seed for the coefficient tables and the public page.

Every number is a ``Decimal``. Each coefficient carries its default ``value``, a ``low``–``high``
range worth showing, a ``confidence`` and short public ``sources``. Nothing here imports Django:
a data migration copies these structures into the database, and tests build the same
``CoefficientValues`` the database would produce via :func:`coefficient_values`.
"""

from decimal import Decimal as D

from estimates.footprint import BandSpec, CoefficientValues, VendorCoefficients

VERSION = "v1"

# Public sources, cited by the coefficients below.
ECOLOGITS = (
    "EcoLogits methodology, LLM inference (GenAI Impact / CodeCarbon), https://ecologits.ai; "
    "Rincé & Banse, JOSS 10(111):7471 (2025), https://doi.org/10.21105/joss.07471"
)
JEGHAM = (
    "Jegham et al., 'How Hungry is AI? Benchmarking Energy, Water, and Carbon Footprint of LLM "
    "Inference' (2025), https://arxiv.org/abs/2505.09598"
)
OVIEDO = (
    "Oviedo et al. (Microsoft), 'Energy Use of AI Inference: Efficiency Pathways and Test-Time "
    "Compute' (2025), https://arxiv.org/abs/2509.20241"
)
EPOCH = (
    "Epoch AI, 'How much energy does ChatGPT use?' (Feb 2025), "
    "https://epoch.ai/gradient-updates/how-much-energy-does-chatgpt-use"
)
MLENERGY = "Chung et al., 'The ML.ENERGY Benchmark' (2025), https://arxiv.org/abs/2505.06371"
GOOGLE_GEMINI = (
    "Google, 'Measuring the environmental impact of delivering AI at Google scale' (Aug 2025), "
    "https://arxiv.org/abs/2508.15734"
)
GOOGLE_PUE = "Google data centre efficiency, https://www.google.com/about/datacenters/efficiency/"
AWS_PUE = (
    "Amazon Sustainability Report 2024: AWS global PUE 1.15, WUE 0.15 L/kWh, "
    "https://sustainability.aboutamazon.com"
)
MICROSOFT_PUE = (
    "Microsoft Environmental Sustainability Report 2025: datacenter PUE 1.16–1.17 (FY24–FY25), "
    "WUE 0.27–0.30 L/kWh, https://www.microsoft.com/en-us/corporate-responsibility/sustainability"
)
PRICES = (
    "Anthropic and OpenAI list prices (input, output, cache write, cache read), "
    "https://www.anthropic.com/pricing, https://openai.com/api/pricing/"
)
KV_CACHE = (
    "Own first-principles estimate: attention over the cached context and KV-cache reads per "
    "generated token; equals Anthropic's cache-read/output price ratio, "
    "https://www.anthropic.com/pricing"
)
OWID_GRID = (
    "Our World in Data / Ember electricity carbon intensity (US 0.384, world 0.473 kg/kWh), "
    "https://ourworldindata.org/grapher/carbon-intensity-electricity"
)
SCHNEIDER_LCA = (
    "Schneider et al. (Google), 'Life-Cycle Emissions of AI Hardware: A Cradle-to-Grave "
    "Approach and Generational Trends' (2025), https://arxiv.org/abs/2502.01671"
)
LI_WATER = (
    "Li et al., 'Making AI Less Thirsty' (2023), https://arxiv.org/abs/2304.03271; "
    "WRI, 'Guidance for calculating water use embedded in purchased electricity' (2020), "
    "https://www.wri.org/research/guidance-calculating-water-use-embedded-purchased-electricity"
)
CDR_PRICES = (
    "Frontier offtakes: Charm Industrial ~$473/t, CarbonCapture + Heirloom ~$644/t, "
    "https://frontierclimate.com; biochar trades mostly $100–200/t (Quantum Commodity "
    "Intelligence)"
)
WATER_PRICES = (
    "Bonneville Environmental Foundation Water Restoration Certificates, 1 WRC = 1,000 gallons "
    "restored, $4.00 per certificate via TerraPass, https://www.b-e-f.org"
)
STRIPE_MINIMUM = "Stripe minimum charge amounts, https://docs.stripe.com/currencies"


def _c(value, low, high, confidence, *sources):
    return {
        "value": D(value),
        "low": D(low),
        "high": D(high),
        "confidence": confidence,
        "sources": sources,
    }


# Server (IT) energy per million output tokens, Wh, before data-centre overhead.
CLASS_ENERGY_WH_PER_MTOK = {
    "small": _c("120", "40", "300", "medium", ECOLOGITS, JEGHAM),
    "medium": _c("350", "150", "800", "medium", ECOLOGITS),
    "large": _c("1000", "500", "2600", "medium", OVIEDO, JEGHAM, EPOCH, ECOLOGITS),
    "frontier": _c("2000", "1000", "6000", "low", ECOLOGITS, PRICES),
    "frontier_xl": _c("4000", "2000", "25000", "low", ECOLOGITS, PRICES),
}

# Energy of a token of each type relative to an output token (reasoning tokens are output).
TOKEN_WEIGHTS = {
    "output": _c("1.00", "1.00", "1.00", "definition"),
    "uncached_input": _c("0.20", "0.05", "0.35", "medium", PRICES, JEGHAM, EPOCH),
    "cache_write": _c("0.25", "0.20", "0.40", "medium", PRICES),
    # The least certain number and, for agent users, the most consequential: label it as such.
    "cache_read": _c("0.02", "0.005", "0.05", "low", KV_CACHE, MLENERGY),
}

_GRID = _c("0.40", "0.35", "0.47", "medium", OWID_GRID, ECOLOGITS)
_EMBODIED = _c("0.15", "0.10", "0.30", "medium", SCHNEIDER_LCA, ECOLOGITS)
_OFFSITE_WATER = _c("3.1", "3.1", "3.9", "medium", LI_WATER, ECOLOGITS)

# Keys: pue, water_onsite_l_per_it_kwh, water_offsite_l_per_kwh, grid_kg_per_kwh, embodied_uplift.
VENDORS = {
    "anthropic": {
        "pue": _c("1.14", "1.09", "1.15", "high", AWS_PUE, GOOGLE_PUE, ECOLOGITS),
        "water_onsite_l_per_it_kwh": _c("0.5", "0.13", "1.0", "medium", AWS_PUE, ECOLOGITS),
        "water_offsite_l_per_kwh": _OFFSITE_WATER,
        "grid_kg_per_kwh": _GRID,
        "embodied_uplift": _EMBODIED,
    },
    "openai": {
        "pue": _c("1.20", "1.12", "1.40", "medium", MICROSOFT_PUE, ECOLOGITS),
        "water_onsite_l_per_it_kwh": _c("0.3", "0.27", "0.57", "medium", MICROSOFT_PUE, ECOLOGITS),
        "water_offsite_l_per_kwh": _OFFSITE_WATER,
        "grid_kg_per_kwh": _GRID,
        "embodied_uplift": _EMBODIED,
    },
    "google": {
        "pue": _c("1.09", "1.04", "1.15", "high", GOOGLE_PUE, GOOGLE_GEMINI),
        "water_onsite_l_per_it_kwh": _c("1.0", "0.9", "1.1", "medium", GOOGLE_GEMINI, ECOLOGITS),
        "water_offsite_l_per_kwh": _OFFSITE_WATER,
        "grid_kg_per_kwh": _GRID,
        "embodied_uplift": _EMBODIED,
    },
    "unknown": {
        "pue": _c("1.20", "1.05", "1.40", "medium", AWS_PUE, MICROSOFT_PUE, GOOGLE_PUE),
        "water_onsite_l_per_it_kwh": _c("0.5", "0.13", "1.1", "medium", ECOLOGITS, LI_WATER),
        "water_offsite_l_per_kwh": _OFFSITE_WATER,
        "grid_kg_per_kwh": _GRID,
        "embodied_uplift": _EMBODIED,
    },
}

# Durable-removal blend (~60% biochar at ~$150/t, ~40% bio-oil/DAC at ~$550/t).
PRICE_PER_TONNE_USD = _c("300", "25", "650", "medium", CDR_PRICES)
PRICE_PER_M3_USD = _c("2.00", "1.06", "2.00", "medium", WATER_PRICES)
# The plan floor: a card charge below ~$0.50 is impossible and the floor covers the payment fee;
# below it the surplus funds extra removal.
FLOOR_USD = _c("1.99", "1.99", "1.99", "definition", STRIPE_MINIMUM)

# Representative monthly usage; priced by the same function as an estimate.
# Mix fractions are of the representative volume; tokens_high None means "no upper bound".
BANDS = (
    {
        "slug": "casual",
        "name": "Casual",
        "tokens_low": 0,
        "tokens_high": 1_000_000,
        "volume": 300_000,
        "mix": {
            "output": D("0.25"),
            "uncached_input": D("0.75"),
            "cache_write": D("0"),
            "cache_read": D("0"),
        },
        "model_class": "large",
        "vendor": "unknown",
    },
    {
        "slug": "worker",
        "name": "Worker",
        "tokens_low": 1_000_000,
        "tokens_high": 20_000_000,
        "volume": 3_000_000,
        "mix": {
            "output": D("0.15"),
            "uncached_input": D("0.40"),
            "cache_write": D("0.05"),
            "cache_read": D("0.40"),
        },
        "model_class": "large",
        "vendor": "unknown",
    },
    {
        "slug": "agentic",
        "name": "Agentic",
        "tokens_low": 20_000_000,
        "tokens_high": 500_000_000,
        "volume": 150_000_000,
        "mix": {
            "output": D("0.02"),
            "uncached_input": D("0.03"),
            "cache_write": D("0.05"),
            "cache_read": D("0.90"),
        },
        "model_class": "frontier",
        "vendor": "unknown",
    },
    {
        "slug": "extreme",
        "name": "Extreme",
        "tokens_low": 500_000_000,
        "tokens_high": None,
        "volume": 3_000_000_000,
        "mix": {
            "output": D("0.003"),
            "uncached_input": D("0.002"),
            "cache_write": D("0.035"),
            "cache_read": D("0.96"),
        },
        "model_class": "frontier",
        "vendor": "unknown",
    },
)

# Ordered (vendor, regex, class) rules: re.fullmatch on the lowercased model id with any date
# suffix stripped; the first match within the vendor wins, so specific rules come first.
MODEL_CLASS_RULES = (
    # Anthropic
    ("anthropic", r"claude-3(-5)?-haiku(-latest)?", "small"),
    ("anthropic", r"claude-haiku-\d+(-\d+)?(-latest)?", "medium"),
    ("anthropic", r"claude-3(-[57])?-sonnet(-latest)?", "large"),
    ("anthropic", r"claude-sonnet-\d+(-\d+)?(-latest)?", "large"),
    ("anthropic", r"claude-3-opus(-latest)?", "frontier_xl"),
    ("anthropic", r"claude-opus-4(-[01])?", "frontier_xl"),
    ("anthropic", r"claude-opus-\d+(-\d+)?(-latest)?", "frontier"),
    # OpenAI: nano/mini/pro variants before the bare family names.
    ("openai", r"gpt-4o-mini(-[a-z0-9-]+)?", "small"),
    ("openai", r"gpt-4\.1-nano", "small"),
    ("openai", r"gpt-5(\.\d+)?-nano", "small"),
    ("openai", r"gpt-3\.5-turbo(-[a-z0-9-]+)?", "small"),
    ("openai", r"text-embedding-[a-z0-9-]+", "small"),
    ("openai", r"gpt-5(\.\d+)?-mini", "medium"),
    ("openai", r"gpt-4\.1-mini", "medium"),
    ("openai", r"o[134]-mini(-[a-z0-9-]+)?", "medium"),
    ("openai", r"codex-mini(-latest)?", "medium"),
    ("openai", r"gpt-4\.5(-preview)?", "frontier_xl"),
    ("openai", r"o[13]-pro", "frontier_xl"),
    ("openai", r"gpt-5(\.\d+)?-pro", "frontier_xl"),
    ("openai", r"(chatgpt-)?gpt-4o(-[a-z0-9-]+)?|chatgpt-4o-latest", "large"),
    ("openai", r"gpt-4\.1", "large"),
    ("openai", r"gpt-5(\.\d+)?(-chat(-latest)?|-codex)?", "large"),
    ("openai", r"o1(-preview)?|o3(-deep-research)?", "large"),
    # Older GPT-4 by list price per output Mtok: turbo $30 (frontier), original $60+ (XL).
    ("openai", r"gpt-4-turbo(-preview)?|gpt-4-\d{4}-preview", "frontier"),
    ("openai", r"gpt-4(-32k)?(-\d{4})?", "frontier_xl"),
    # Google
    ("google", r"gemini-[0-9.]+-flash-lite(-[a-z0-9-]+)?", "small"),
    ("google", r"gemma-[a-z0-9.-]+", "small"),
    ("google", r"gemini-[0-9.]+-flash(-[a-z0-9-]+)?", "medium"),
    ("google", r"gemini-[0-9.]+-pro(-[a-z0-9-]+)?", "large"),
)


def coefficient_values() -> CoefficientValues:
    """The v1 set as the math consumes it (what the seeded database rows must reproduce)."""
    return CoefficientValues(
        version=VERSION,
        class_energy_wh={k: v["value"] for k, v in CLASS_ENERGY_WH_PER_MTOK.items()},
        token_weights={k: v["value"] for k, v in TOKEN_WEIGHTS.items()},
        vendors={
            vendor: VendorCoefficients(**{k: v["value"] for k, v in values.items()})
            for vendor, values in VENDORS.items()
        },
        price_per_tonne_usd=PRICE_PER_TONNE_USD["value"],
        price_per_m3_usd=PRICE_PER_M3_USD["value"],
        floor_usd=FLOOR_USD["value"],
    )


def band_specs() -> tuple[BandSpec, ...]:
    """The v1 bands as ``BandSpec`` objects."""
    return tuple(BandSpec(**band) for band in BANDS)
