"""The Harbor Lane store's vocabulary: categories, sub-categories, brands, colours, sizes and specs, plus the
words shoppers use for them.

One source of truth for the demo generator (what to make) and the NLU/search (what to recognise), so the two
can never drift apart. Everything here follows /work/shared/STORE.md: 18 categories, shoes and boots in US
sizes 6-13 with half sizes, apparel in XS-XXL. Spec makers draw from a seeded `random.Random` and only ever
return values that belong together (a winter boot is always waterproof, a wired headphone has no battery).
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

SHOE_SIZES = tuple(f"{half / 2:g}" for half in range(12, 27))  # "6", "6.5", ..., "13"
APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")

SpecMaker = Callable[[random.Random, str, str], dict]  # (rng, subcategory, brand) -> specs


@dataclass(frozen=True)
class Subcategory:
    name: str  # stored in products.subcategory
    label: str  # title descriptor; may name spec fields: "{capacity_persons}-Person Backpacking Tent"
    noun: str  # what a description calls it: "backpacking tent"
    price: tuple[int, int]  # typical regular price in USD, before the brand's price level
    colors: tuple[str, ...] = ()  # overrides the category's colours (clear cases come in "clear" only)


@dataclass(frozen=True)
class Category:
    name: str
    subcategories: tuple[Subcategory, ...]
    brands: tuple[str, ...]
    colors: tuple[str, ...]  # empty: the category has no colour options (skincare)
    sizes: tuple[str, ...]  # the size scheme; empty where sizes don't apply
    specs: SpecMaker
    share: int  # products per 100 in the demo catalog
    gendered: bool = False  # titled Men's / Women's
    brand_subcategories: tuple[tuple[str, tuple[str, ...]], ...] = ()  # brands that only make some sub-categories

    def subcategories_for(self, brand: str) -> tuple[Subcategory, ...]:
        allowed = dict(self.brand_subcategories).get(brand)
        return tuple(s for s in self.subcategories if allowed is None or s.name in allowed)


def _pick(rng: random.Random, table: dict[str, tuple], sub: str):
    return rng.choice(table[sub])


# ---- spec makers: keys are snake_case with the unit in the key (docs/catalog-schema.md) -------------------
def _running_shoes(rng: random.Random, sub: str, brand: str) -> dict:
    low, high = {"road": (230, 300), "trail": (260, 340), "racing": (170, 225), "stability": (270, 330)}[sub]
    return {
        "weight_g": rng.randrange(low, high + 1, 5),
        "drop_mm": rng.choice((6, 8) if sub == "racing" else (4, 6, 8, 10, 12)),
        "cushioning": _pick(rng, {"road": ("moderate", "plush", "maximum"), "trail": ("moderate", "plush"),
                                  "racing": ("minimal", "moderate"), "stability": ("moderate", "plush")}, sub),
        "waterproof": rng.random() < {"trail": 0.4, "road": 0.08}.get(sub, 0.0),
    }


def _hiking_boots(rng: random.Random, sub: str, brand: str) -> dict:
    waterproof = sub == "winter" or rng.random() < 0.8
    specs: dict = {"waterproof": waterproof}
    if waterproof:
        specs["waterproof_rating"] = rng.choice(("GORE-TEX membrane", "waterproof-breathable membrane",
                                                 "seam-sealed leather"))
    low, high = {"lightweight": (380, 520), "mid": (480, 650), "high": (600, 850), "winter": (700, 950)}[sub]
    specs["weight_g"] = rng.randrange(low, high + 1, 10)
    specs["ankle_height"] = {"mid": "mid", "high": "high", "winter": "high"}.get(sub) or rng.choice(("low", "mid"))
    if sub == "winter":
        specs["insulation_g"] = rng.choice((200, 400))
    return specs


def _sneakers(rng: random.Random, sub: str, brand: str) -> dict:
    canvas_brand = brand in ("Converse", "Vans")
    return {
        "upper": rng.choice(("canvas", "suede") if canvas_brand else ("leather", "knit mesh", "suede", "canvas")),
        "closure": "slip-on" if sub == "slip-on" else "lace-up",
        "sole": "vulcanized rubber" if canvas_brand or sub == "skate" else rng.choice(("rubber cupsole",
                                                                                       "cushioned foam")),
        "weight_g": rng.randrange(300, 481, 10),
    }


def _rain_jackets(rng: random.Random, sub: str, brand: str) -> dict:
    ratings = (20000, 28000) if sub == "hardshell" else (10000, 15000, 20000)
    low, high = {"packable": (180, 320), "hardshell": (300, 480), "commuter": (350, 550),
                 "insulated": (550, 800)}[sub]
    return {
        "waterproof_rating": f"{rng.choice(ratings):,} mm",
        "waterproof": True,
        "packable": sub == "packable" or (sub != "insulated" and rng.random() < 0.35),
        "insulation": "synthetic" if sub == "insulated" else "none",
        "weight_g": rng.randrange(low, high + 1, 10),
    }


def _down_jackets(rng: random.Random, sub: str, brand: str) -> dict:
    fills = {"ultralight": (800, 850, 900), "parka": (550, 600, 650, 700)}.get(sub, (600, 650, 700, 800))
    low, high = {"ultralight": (200, 300), "vest": (180, 300), "puffer": (300, 500), "hooded": (380, 600),
                 "parka": (900, 1400)}[sub]
    return {
        "fill_power": rng.choice(fills),
        "insulation": rng.choice(("goose down", "duck down")),
        "packable": sub == "ultralight" or (sub in ("puffer", "vest") and rng.random() < 0.6),
        "weight_g": rng.randrange(low, high + 1, 10),
        "waterproof": False,
        "water_repellent": True,
    }


def _t_shirts(rng: random.Random, sub: str, brand: str) -> dict:
    if sub == "performance":
        material = rng.choice(("recycled polyester", "polyester/spandex", "merino wool"))
    else:
        material = rng.choice(("100% cotton", "organic cotton", "cotton/polyester blend", "Supima cotton"))
    return {"material": material, "fit": rng.choice(("regular", "slim", "relaxed")),
            "moisture_wicking": sub == "performance"}


def _jeans(rng: random.Random, sub: str, brand: str) -> dict:
    stretch = sub == "skinny" or rng.random() < 0.5
    return {"fit": sub, "rise": rng.choice(("low", "mid", "high") if sub == "skinny" else ("mid", "high")),
            "stretch": stretch, "material": "98% cotton, 2% elastane" if stretch else "100% cotton"}


def _backpacks(rng: random.Random, sub: str, brand: str) -> dict:
    low, high = {"daypack": (15, 30), "hiking": (35, 70), "travel": (30, 45), "laptop": (20, 32)}[sub]
    capacity = rng.randrange(low, high + 1, 5 if sub == "hiking" else 1)
    sleeve = sub == "laptop" or rng.random() < {"travel": 0.8, "daypack": 0.3, "hiking": 0.05}.get(sub, 0.0)
    specs = {
        "capacity_l": capacity,
        "weight_g": rng.randrange(capacity * 25 + 200, capacity * 30 + 500, 10),
        "laptop_sleeve": sleeve,
        "hydration_compatible": rng.random() < {"hiking": 0.9, "daypack": 0.6}.get(sub, 0.0),
    }
    if sleeve:
        specs["laptop_size_in"] = rng.choice((15, 16))
    return specs


def _tents(rng: random.Random, sub: str, brand: str) -> dict:
    persons = _pick(rng, {"backpacking": (1, 2, 2, 3), "ultralight": (1, 2), "camping": (2, 3, 4, 4, 6, 8),
                          "mountaineering": (2, 3)}, sub)
    low, high = {"ultralight": (0.7, 1.3), "backpacking": (1.3, 2.6), "mountaineering": (2.6, 4.2)}.get(
        sub, (1.2 * persons + 1.5, 1.5 * persons + 2.0))
    weight = round(rng.uniform(low, high), 2)
    return {
        "capacity_persons": persons,
        "season": "4-season" if sub == "mountaineering" else "3-season",
        "weight_kg": weight,
        "packed_size": f"{rng.randint(36, 46) + int(weight * 3)} x {10 + int(weight * 2.5)} cm",
        "freestanding": rng.random() < (0.3 if sub == "ultralight" else 0.9),
    }


def _sleeping_bags(rng: random.Random, sub: str, brand: str) -> dict:
    synthetic_only = brand == "Coleman" or sub == "camping"
    low, high = {"camping": (1400, 2600), "backpacking": (800, 1400), "ultralight": (450, 800),
                 "winter": (1300, 2000)}[sub]
    return {
        "temp_rating_f": _pick(rng, {"winter": (-20, -10, 0), "backpacking": (15, 20, 30),
                                     "ultralight": (20, 30, 40), "camping": (30, 40, 50)}, sub),
        "fill": "synthetic" if synthetic_only else rng.choice(("850-fill down", "650-fill down", "synthetic")),
        "weight_g": rng.randrange(low, high + 1, 10),
        "shape": "rectangular" if sub == "camping" else rng.choice(("mummy", "mummy", "semi-rectangular")),
    }


def _water_bottles(rng: random.Random, sub: str, brand: str) -> dict:
    ounces = _pick(rng, {"insulated": (18, 21, 24, 32, 40, 64), "sports": (20, 24, 32), "hiking": (16, 32, 48),
                         "tumbler": (20, 30, 40)}, sub)
    insulated = sub in ("insulated", "tumbler") or (sub == "hiking" and brand != "Nalgene" and rng.random() < 0.5)
    specs: dict = {"capacity_oz": ounces, "capacity_ml": round(ounces * 29.5735), "insulated": insulated}
    if insulated:
        specs["keeps_cold_h"] = rng.choice((24, 24, 36))
        specs["keeps_hot_h"] = rng.choice((6, 8, 12))
        specs["material"] = "18/8 stainless steel"
    else:
        specs["material"] = "BPA-free polyethylene" if sub == "sports" else "Tritan copolyester"
    specs["dishwasher_safe"] = not insulated or rng.random() < 0.5
    return specs


def _yoga_mats(rng: random.Random, sub: str, brand: str) -> dict:
    material = _pick(rng, {"standard": ("TPE", "PVC", "PU and natural rubber"), "travel": ("natural rubber", "TPE"),
                           "thick": ("TPE", "NBR foam"), "natural": ("natural rubber", "cork")}, sub)
    low, high = {"travel": (0.9, 1.2), "standard": (1.5, 2.5), "thick": (0.9, 1.5), "natural": (2.0, 3.5)}[sub]
    return {
        "thickness_mm": _pick(rng, {"travel": (1.5, 2), "standard": (4, 5), "thick": (6, 8, 10),
                                    "natural": (4, 5)}, sub),
        "material": material,
        "non_slip": material != "NBR foam" or rng.random() < 0.5,
        "weight_kg": round(rng.uniform(low, high), 1),
    }


def _headphones(rng: random.Random, sub: str, brand: str) -> dict:
    wireless = sub in ("earbuds", "sport") or rng.random() < 0.9
    specs: dict = {"noise_cancelling": wireless and rng.random() < {"over-ear": 0.6, "earbuds": 0.5,
                                                                    "on-ear": 0.25}.get(sub, 0.15)}
    if wireless:
        specs["battery_life_h"] = _pick(rng, {"over-ear": (20, 24, 30, 40, 50, 60), "on-ear": (20, 30, 40, 50),
                                              "earbuds": (5, 6, 7, 8, 10), "sport": (6, 8, 9, 10, 12)}, sub)
    specs["wireless"] = wireless
    specs["water_resistance"] = _pick(rng, {"sport": ("IPX5", "IPX7"), "earbuds": ("IPX4", "IPX5", "none"),
                                            "over-ear": ("none",), "on-ear": ("none", "IPX4")}, sub)
    return specs


def _smartwatches(rng: random.Random, sub: str, brand: str) -> dict:
    return {
        "battery_life_days": _pick(rng, {"fitness": (5, 7, 10, 14), "gps": (7, 10, 14), "outdoor": (14, 21, 30),
                                         "everyday": (2, 3, 5, 7)}, sub),
        "gps": sub in ("gps", "outdoor") or rng.random() < {"fitness": 0.3, "everyday": 0.6}[sub],
        "heart_rate": True,
        "water_resistance_atm": 10 if sub in ("gps", "outdoor") else 5,
        "display": rng.choice(("MIP", "AMOLED") if sub == "outdoor" else ("AMOLED", "AMOLED", "LCD")),
    }


PHONES = ("iPhone 15", "iPhone 15 Pro", "iPhone 15 Pro Max", "iPhone 16", "iPhone 16 Pro", "iPhone 16 Pro Max",
          "Galaxy S24", "Galaxy S24 Ultra", "Pixel 8", "Pixel 9")


def _phone_cases(rng: random.Random, sub: str, brand: str) -> dict:
    phone = rng.choice(PHONES)
    magsafe_share = {"rugged": 0.5, "slim": 0.7, "clear": 0.7, "wallet": 0.3}[sub]
    return {
        "compatible_phones": [phone],
        "drop_protection_ft": _pick(rng, {"rugged": (15, 20), "slim": (6, 8, 10), "clear": (6, 8, 10),
                                          "wallet": (4, 6)}, sub),
        "magsafe": phone.startswith("iPhone") and rng.random() < magsafe_share,
        "material": {"wallet": "vegan leather", "clear": "polycarbonate and TPU"}.get(sub)
        or rng.choice(("polycarbonate and TPU", "silicone")),
    }


def _coffee_makers(rng: random.Random, sub: str, brand: str) -> dict:
    specs: dict = {
        "type": sub,
        "capacity_cups": _pick(rng, {"drip": (5, 8, 10, 12, 14), "espresso": (1, 2), "french press": (3, 4, 8, 12),
                                     "pour-over": (4, 6, 8), "single-serve": (1,), "cold brew": (4, 6, 8)}, sub),
        "programmable": rng.random() < {"drip": 0.7, "espresso": 0.4, "single-serve": 0.3}.get(sub, 0.0),
        "dishwasher_safe_parts": sub in ("french press", "pour-over") or rng.random() < 0.5,
    }
    power = {"drip": (900, 1100), "espresso": (1300, 1700), "single-serve": (1200, 1500)}.get(sub)
    if power:
        specs["power_w"] = rng.randrange(power[0], power[1] + 1, 50)
    return specs


_STEEL = {"Wüsthof": "X50CrMoV15 German stainless steel", "Victorinox": "Swiss stainless steel",
          "Shun": "VG-MAX Damascus-clad steel", "Global": "CROMOVA 18 stainless steel"}


def _kitchen_knives(rng: random.Random, sub: str, brand: str) -> dict:
    specs: dict = {"pieces": rng.choice((5, 7, 10, 14))} if sub == "knife set" else {}
    specs["blade_length_in"] = _pick(rng, {"chef's knife": (6, 8, 10), "santoku": (5, 5.5, 7),
                                           "paring knife": (3, 3.5, 4), "bread knife": (8, 9, 10),
                                           "knife set": (8,)}, sub)
    specs["steel"] = _STEEL[brand]
    specs["full_tang"] = brand in ("Wüsthof", "Shun") or (brand == "Global" and sub != "bread knife")
    specs["dishwasher_safe"] = False
    return specs


def _skincare(rng: random.Random, sub: str, brand: str) -> dict:
    specs: dict = {
        "skin_type": "all" if sub == "sunscreen" else rng.choice(("all", "dry", "oily", "sensitive", "combination",
                                                                  "normal to dry")),
        "volume_ml": _pick(rng, {"cleanser": (236, 355, 473), "moisturizer": (50, 89, 236, 454), "serum": (30, 60),
                                 "sunscreen": (50, 89, 150), "eye cream": (14, 15)}, sub),
        "key_ingredient": _pick(rng, {
            "cleanser": ("ceramides", "salicylic acid", "glycerin"),
            "moisturizer": ("ceramides", "hyaluronic acid", "squalane", "niacinamide"),
            "serum": ("niacinamide", "hyaluronic acid", "vitamin C", "retinol"),
            "sunscreen": ("zinc oxide", "avobenzone"), "eye cream": ("caffeine", "peptides", "retinol")}, sub),
        "fragrance_free": brand != "Kiehl's" or rng.random() < 0.5,
    }
    if sub == "sunscreen" or (sub == "moisturizer" and rng.random() < 0.3):
        specs["spf"] = rng.choice((30, 50)) if sub == "sunscreen" else rng.choice((15, 30))
    return specs


# ---- the 18 categories ----------------------------------------------------------------------------------
_S = Subcategory
CATEGORIES: tuple[Category, ...] = (
    Category("running shoes", (
        _S("road", "Road Running Shoe", "road running shoe", (80, 170)),
        _S("trail", "Trail Running Shoe", "trail running shoe", (90, 170)),
        _S("racing", "Racing Shoe", "racing shoe", (140, 250)),
        _S("stability", "Stability Running Shoe", "stability running shoe", (100, 170))),
        ("Nike", "Adidas", "Brooks", "Saucony", "Trailpeak"),
        ("black", "white", "grey", "navy", "blue", "red", "green", "orange", "pink", "purple", "yellow", "teal"),
        SHOE_SIZES, _running_shoes, 8, gendered=True),
    Category("hiking boots", (
        _S("mid", "Mid Hiking Boot", "mid hiking boot", (110, 200)),
        _S("high", "Backpacking Boot", "backpacking boot", (160, 280)),
        _S("lightweight", "Lightweight Hiking Boot", "lightweight hiking boot", (90, 170)),
        _S("winter", "Insulated Winter Boot", "insulated winter boot", (130, 230))),
        ("Merrell", "Salomon", "Columbia", "Trailpeak"),
        ("brown", "tan", "black", "grey", "olive", "charcoal", "burgundy"),
        SHOE_SIZES, _hiking_boots, 6, gendered=True),
    Category("sneakers", (
        _S("low-top", "Low-Top Sneaker", "low-top sneaker", (55, 130)),
        _S("high-top", "High-Top Sneaker", "high-top sneaker", (60, 150)),
        _S("skate", "Skate Shoe", "skate shoe", (55, 100)),
        _S("slip-on", "Slip-On Sneaker", "slip-on sneaker", (50, 90))),
        ("Nike", "Adidas", "Converse", "Vans"),
        ("white", "black", "grey", "navy", "red", "green", "beige", "cream", "pink", "blue"),
        SHOE_SIZES, _sneakers, 7, gendered=True),
    Category("rain jackets", (
        _S("hardshell", "Hardshell Rain Jacket", "hardshell rain jacket", (180, 380)),
        _S("packable", "Packable Rain Jacket", "packable rain jacket", (80, 180)),
        _S("commuter", "Commuter Rain Jacket", "commuter rain jacket", (100, 220)),
        _S("insulated", "Insulated Rain Jacket", "insulated rain jacket", (150, 280))),
        ("Patagonia", "Columbia", "The North Face", "Trailpeak"),
        ("black", "navy", "blue", "red", "yellow", "green", "olive", "orange", "teal", "grey"),
        APPAREL_SIZES, _rain_jackets, 5, gendered=True),
    Category("down jackets", (
        _S("puffer", "Down Jacket", "down jacket", (160, 300)),
        _S("hooded", "Hooded Down Jacket", "hooded down jacket", (190, 340)),
        _S("parka", "Down Parka", "down parka", (280, 480)),
        _S("ultralight", "Ultralight Down Jacket", "ultralight down jacket", (200, 360)),
        _S("vest", "Down Vest", "down vest", (110, 200))),
        ("Patagonia", "The North Face", "Columbia"),
        ("black", "navy", "olive", "red", "burgundy", "grey", "charcoal", "beige", "purple", "teal"),
        APPAREL_SIZES, _down_jackets, 5, gendered=True),
    Category("t-shirts", (
        _S("crew", "Crew Neck T-Shirt", "crew neck tee", (18, 40)),
        _S("v-neck", "V-Neck T-Shirt", "v-neck tee", (18, 40)),
        _S("performance", "Performance T-Shirt", "performance tee", (25, 55)),
        _S("graphic", "Graphic T-Shirt", "graphic tee", (20, 40)),
        _S("pocket", "Pocket T-Shirt", "pocket tee", (20, 38))),
        ("Harbor Lane Basics", "Patagonia", "Nike", "Adidas"),
        ("white", "black", "grey", "navy", "red", "green", "olive", "blue", "burgundy", "pink", "yellow", "cream",
         "charcoal"),
        APPAREL_SIZES, _t_shirts, 7, gendered=True),
    Category("jeans", (
        _S("slim", "Slim Fit Jeans", "pair of slim jeans", (50, 110)),
        _S("straight", "Straight Fit Jeans", "pair of straight jeans", (50, 110)),
        _S("relaxed", "Relaxed Fit Jeans", "pair of relaxed jeans", (50, 100)),
        _S("skinny", "Skinny Jeans", "pair of skinny jeans", (45, 100)),
        _S("bootcut", "Bootcut Jeans", "pair of bootcut jeans", (50, 100))),
        ("Levi's", "Wrangler", "Harbor Lane Basics"),
        ("blue", "black", "grey", "navy", "charcoal", "white"),
        APPAREL_SIZES, _jeans, 5, gendered=True),
    Category("backpacks", (
        _S("daypack", "{capacity_l}L Daypack", "daypack", (45, 130)),
        _S("hiking", "{capacity_l}L Hiking Backpack", "hiking backpack", (120, 320)),
        _S("travel", "{capacity_l}L Travel Backpack", "travel backpack", (90, 220)),
        _S("laptop", "{capacity_l}L Laptop Backpack", "laptop backpack", (60, 160))),
        ("Osprey", "The North Face", "Patagonia", "Trailpeak"),
        ("black", "grey", "navy", "blue", "green", "olive", "red", "orange", "teal", "burgundy"),
        (), _backpacks, 7),
    Category("tents", (
        _S("backpacking", "{capacity_persons}-Person Backpacking Tent", "backpacking tent", (180, 450)),
        _S("camping", "{capacity_persons}-Person Camping Tent", "camping tent", (90, 400)),
        _S("ultralight", "{capacity_persons}-Person Ultralight Tent", "ultralight tent", (300, 600)),
        _S("mountaineering", "{capacity_persons}-Person Mountaineering Tent", "mountaineering tent", (450, 750))),
        ("MSR", "Big Agnes", "Coleman", "Trailpeak"),
        ("green", "orange", "grey", "blue", "yellow", "tan", "olive"),
        (), _tents, 4),
    Category("sleeping bags", (
        _S("backpacking", "{temp_rating_f}°F Backpacking Sleeping Bag", "backpacking sleeping bag", (150, 380)),
        _S("camping", "{temp_rating_f}°F Camping Sleeping Bag", "camping sleeping bag", (50, 130)),
        _S("ultralight", "{temp_rating_f}°F Ultralight Sleeping Bag", "ultralight sleeping bag", (280, 500)),
        _S("winter", "{temp_rating_f}°F Winter Sleeping Bag", "winter sleeping bag", (250, 550))),
        ("Big Agnes", "Coleman", "The North Face", "Trailpeak"),
        ("blue", "green", "red", "orange", "grey", "black", "navy", "olive"),
        (), _sleeping_bags, 4),
    Category("water bottles", (
        _S("insulated", "{capacity_oz} oz Insulated Water Bottle", "insulated water bottle", (25, 55)),
        _S("sports", "{capacity_oz} oz Sports Bottle", "squeeze sports bottle", (12, 22)),
        _S("hiking", "{capacity_oz} oz Wide Mouth Bottle", "wide mouth bottle", (14, 40)),
        _S("tumbler", "{capacity_oz} oz Insulated Tumbler", "insulated tumbler", (22, 45))),
        ("Hydro Flask", "Nalgene", "CamelBak", "Trailpeak"),
        ("black", "white", "silver", "blue", "green", "pink", "purple", "red", "teal", "yellow", "orange", "navy"),
        (), _water_bottles, 6),
    Category("yoga mats", (
        _S("standard", "Yoga Mat", "yoga mat", (25, 90)),
        _S("travel", "Travel Yoga Mat", "travel yoga mat", (30, 80)),
        _S("thick", "Extra Thick Yoga Mat", "extra thick mat", (20, 70)),
        _S("natural", "Eco Yoga Mat", "eco-friendly yoga mat", (60, 130))),
        ("Manduka", "Gaiam", "Lululemon"),
        ("black", "purple", "blue", "pink", "teal", "green", "grey", "beige", "burgundy"),
        (), _yoga_mats, 4),
    Category("headphones", (
        _S("over-ear", "Over-Ear Headphones", "pair of over-ear headphones", (80, 400)),
        _S("on-ear", "On-Ear Headphones", "pair of on-ear headphones", (50, 250)),
        _S("earbuds", "True Wireless Earbuds", "pair of true wireless earbuds", (40, 280)),
        _S("sport", "Sport Earbuds", "pair of sport earbuds", (40, 180))),
        ("Sony", "Bose", "JBL", "Anker"),
        ("black", "white", "silver", "navy", "blue", "beige", "pink", "green"),
        (), _headphones, 7),
    Category("smartwatches", (
        _S("fitness", "Fitness Tracker", "fitness tracker", (60, 160)),
        _S("gps", "GPS Running Watch", "GPS running watch", (200, 450)),
        _S("outdoor", "Outdoor GPS Watch", "outdoor GPS watch", (300, 700)),
        _S("everyday", "Smartwatch", "smartwatch", (120, 350))),
        ("Garmin", "Fitbit", "Amazfit", "Suunto"),
        ("black", "silver", "white", "pink", "navy", "green", "grey"),
        (), _smartwatches, 5),
    Category("phone cases", (
        _S("rugged", "Rugged Case for {phone}", "rugged case", (30, 65)),
        _S("slim", "Slim Case for {phone}", "slim case", (15, 45)),
        _S("clear", "Clear Case for {phone}", "clear case", (15, 50), colors=("clear",)),
        _S("wallet", "Wallet Case for {phone}", "wallet case", (25, 60))),
        ("OtterBox", "Spigen", "Casetify"),
        ("black", "blue", "pink", "purple", "green", "red", "navy", "white"),
        (), _phone_cases, 6),
    Category("coffee makers", (
        _S("drip", "{capacity_cups}-Cup Drip Coffee Maker", "drip coffee maker", (40, 300)),
        _S("espresso", "Espresso Machine", "espresso machine", (180, 900)),
        _S("french press", "{capacity_cups}-Cup French Press", "French press", (25, 70)),
        _S("pour-over", "Pour-Over Coffee Maker", "pour-over coffee maker", (25, 60)),
        _S("single-serve", "Single-Serve Coffee Maker", "single-serve coffee maker", (70, 200)),
        _S("cold brew", "Cold Brew Coffee Maker", "cold brew coffee maker", (30, 90))),
        ("Breville", "De'Longhi", "Cuisinart", "Bodum"),
        ("black", "silver", "white", "red", "cream"),
        (), _coffee_makers, 4,
        brand_subcategories=(("Breville", ("espresso", "drip", "single-serve")),
                             ("De'Longhi", ("espresso", "drip", "single-serve")),
                             ("Cuisinart", ("drip", "single-serve", "cold brew", "espresso")),
                             ("Bodum", ("french press", "pour-over", "cold brew", "drip")))),
    Category("kitchen knives", (
        _S("chef's knife", "{blade_length_in}-Inch Chef's Knife", "chef's knife", (35, 200)),
        _S("santoku", "{blade_length_in}-Inch Santoku Knife", "santoku knife", (35, 190)),
        _S("paring knife", "{blade_length_in}-Inch Paring Knife", "paring knife", (12, 90)),
        _S("bread knife", "{blade_length_in}-Inch Bread Knife", "bread knife", (30, 160)),
        _S("knife set", "{pieces}-Piece Knife Block Set", "knife block set", (120, 600))),
        ("Wüsthof", "Victorinox", "Shun", "Global"),
        ("black", "silver", "brown", "red"),
        (), _kitchen_knives, 4),
    Category("skincare", (
        _S("moisturizer", "Moisturizer {volume_ml} ml", "moisturizer", (12, 55)),
        _S("cleanser", "Facial Cleanser {volume_ml} ml", "facial cleanser", (9, 35)),
        _S("serum", "Serum {volume_ml} ml", "serum", (8, 60)),
        _S("sunscreen", "Sunscreen SPF {spf} {volume_ml} ml", "sunscreen", (12, 40)),
        _S("eye cream", "Eye Cream {volume_ml} ml", "eye cream", (15, 55))),
        ("CeraVe", "The Ordinary", "La Roche-Posay", "Kiehl's"),
        (), (), _skincare, 6),
)

# ---- what shoppers type ---------------------------------------------------------------------------------
CATEGORY_SYNONYMS: dict[str, list[str]] = {
    "running shoes": ["runners", "running sneakers", "jogging shoes", "running trainers", "trail runners",
                      "trail shoes", "road shoes"],
    "hiking boots": ["hikers", "hiking shoes", "trekking boots", "walking boots", "boots", "backpacking boots"],
    "sneakers": ["trainers", "kicks", "tennis shoes", "casual shoes", "skate shoes", "high tops"],
    "rain jackets": ["raincoat", "rain coat", "rain shell", "shell jacket", "waterproof jacket", "hardshell",
                     "anorak", "rain gear"],
    "down jackets": ["puffer", "puffer jacket", "puffy jacket", "puffy coat", "puffy vest", "down coat", "parka",
                     "winter jacket", "down vest"],  # not "puffy" alone: "puffy eyes" are a skincare need
    "t-shirts": ["tee", "tees", "t shirt", "tshirt", "tee shirt", "shirt"],
    "jeans": ["denim", "denim jeans", "blue jeans", "denim pants"],
    "backpacks": ["rucksack", "daypack", "knapsack", "bookbag", "hiking pack", "travel pack"],
    "tents": ["shelter", "camping tent", "backpacking tent"],
    "sleeping bags": ["sleep sack", "sleeping sack", "mummy bag", "bedroll"],
    "water bottles": ["flask", "bottle", "thermos", "canteen", "tumbler", "hydration bottle"],
    "yoga mats": ["exercise mat", "workout mat", "fitness mat", "pilates mat", "mat"],
    "headphones": ["earbuds", "headset", "earphones", "ear buds", "in-ear headphones", "over-ear headphones"],
    "smartwatches": ["smart watch", "fitness tracker", "gps watch", "running watch", "sports watch",
                     "activity tracker", "watch"],
    "phone cases": ["phone case", "phone cover", "iphone case", "galaxy case", "pixel case", "mobile case",
                    "cell phone case"],
    "coffee makers": ["coffee machine", "espresso machine", "espresso maker", "french press", "cafetiere",
                      "coffee brewer", "pour over", "cold brew maker"],
    "kitchen knives": ["knife", "knives", "chef knife", "chef's knife", "cooking knife", "knife set", "santoku"],
    "skincare": ["skin care", "moisturizer", "moisturiser", "face cream", "lotion", "sunscreen", "sunblock",
                 "serum", "cleanser", "face wash", "eye cream"],
}

COLOR_SYNONYMS: dict[str, str] = {
    "gray": "grey", "light grey": "grey", "light gray": "grey", "heather grey": "grey",
    "navy blue": "navy", "dark blue": "navy", "light blue": "blue", "sky blue": "blue", "royal blue": "blue",
    "khaki": "tan", "sand": "beige", "maroon": "burgundy", "wine": "burgundy", "oxblood": "burgundy",
    "violet": "purple", "lilac": "purple", "lavender": "purple", "aqua": "teal", "turquoise": "teal",
    "ivory": "cream", "off white": "cream", "off-white": "cream", "dark grey": "charcoal", "dark gray": "charcoal",
    "charcoal grey": "charcoal", "graphite": "charcoal", "army green": "olive", "khaki green": "olive",
    "forest green": "green", "chrome": "silver", "metallic": "silver", "transparent": "clear",
    "see-through": "clear", "crimson": "red", "scarlet": "red", "chocolate": "brown", "blush": "pink",
    "mustard": "yellow", "coral": "orange", "jet black": "black",
}

BRAND_ALIASES: dict[str, str] = {
    "north face": "The North Face", "northface": "The North Face", "tnf": "The North Face",
    "levis": "Levi's", "levi": "Levi's", "levi strauss": "Levi's",
    "wusthof": "Wüsthof", "wuesthof": "Wüsthof", "wustof": "Wüsthof",
    "delonghi": "De'Longhi", "de longhi": "De'Longhi", "de'longhi": "De'Longhi",
    "hydroflask": "Hydro Flask", "hydro": "Hydro Flask",
    "camelback": "CamelBak", "camel bak": "CamelBak",
    "otter box": "OtterBox", "otter": "OtterBox",
    "roche posay": "La Roche-Posay", "la roche posay": "La Roche-Posay", "lrp": "La Roche-Posay",
    "kiehls": "Kiehl's", "kiehl": "Kiehl's", "cera ve": "CeraVe",
    "lulu": "Lululemon", "lulu lemon": "Lululemon", "fit bit": "Fitbit", "amaz fit": "Amazfit",
    "mountain safety research": "MSR",
    "hl basics": "Harbor Lane Basics", "harbor basics": "Harbor Lane Basics",
    "trail peak": "Trailpeak", "merrel": "Merrell", "salamon": "Salomon",
    "addidas": "Adidas", "adiddas": "Adidas", "nikes": "Nike", "chuck taylor": "Converse", "chucks": "Converse",
}


def all_categories() -> list[str]:
    return [c.name for c in CATEGORIES]


def all_brands() -> list[str]:
    """Every brand once, in first-seen order."""
    return list(dict.fromkeys(b for c in CATEGORIES for b in c.brands))


def all_colors() -> list[str]:
    colors = (color for c in CATEGORIES for color in (*c.colors, *(x for s in c.subcategories for x in s.colors)))
    return list(dict.fromkeys(colors))


def category_aliases() -> dict[str, str]:
    """CATEGORY_SYNONYMS flattened to alias -> category, the shape `search.vocab.Vocabulary` takes. A word that
    names two categories would be ambiguous, so the first category listed keeps it."""
    aliases: dict[str, str] = {}
    for category, words in CATEGORY_SYNONYMS.items():
        for word in words:
            aliases.setdefault(word, category)
    return aliases


# "What goes with these boots?": categories that complete a purchase in each demo category. The recommender
# learns complements from co-views and co-purchases; this prior shapes the synthetic history it learns from and
# answers while a category has no such signal yet.
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "running shoes": ("water bottles", "t-shirts", "smartwatches", "headphones"),
    "hiking boots": ("backpacks", "rain jackets", "water bottles", "tents"),
    "sneakers": ("t-shirts", "jeans", "backpacks"),
    "rain jackets": ("hiking boots", "backpacks", "down jackets"),
    "down jackets": ("hiking boots", "sleeping bags", "rain jackets"),
    "t-shirts": ("jeans", "sneakers"),
    "jeans": ("t-shirts", "sneakers"),
    "backpacks": ("water bottles", "hiking boots", "rain jackets"),
    "tents": ("sleeping bags", "backpacks", "water bottles"),
    "sleeping bags": ("tents", "backpacks", "down jackets"),
    "water bottles": ("backpacks", "yoga mats", "running shoes"),
    "yoga mats": ("water bottles", "t-shirts", "headphones"),
    "headphones": ("phone cases", "smartwatches"),
    "smartwatches": ("headphones", "running shoes", "phone cases"),
    "phone cases": ("headphones", "smartwatches"),
    "coffee makers": ("kitchen knives", "water bottles"),
    "kitchen knives": ("coffee makers",),
    "skincare": ("yoga mats", "water bottles"),
}
