"""The seeded Harbor Lane demo catalog: realistic, varied products that never contradict their own specs.

Products come in blocks of BLOCK_SIZE, each drawn from its own RNG seeded by (seed, block), so the same
(count, seed) always gives the same products whether blocks are made in order or in parallel worker processes
(build.py does that for big catalogs). Products are yielded one at a time: a million-product build never holds
the catalog in memory. Specs are drawn first; the title, tags, description and reviews are then written *from*
the specs, and a feature a product lacks is never named in its text (no "not waterproof": a search for
"waterproof" must not find it).
"""
from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from assistant.catalog.model import Product, Review, Variant
from assistant.catalog.vocabulary import CATEGORIES, Category, Subcategory

FEW_REVIEWS_ABOVE = 20_000  # bigger catalogs get at most one written review per product, to stay fast
BLOCK_SIZE = 1000

# Price level of each brand relative to its category's typical range (1.0 when not listed).
BRAND_LEVEL = {
    "Patagonia": 1.2, "The North Face": 1.1, "Shun": 1.3, "Wüsthof": 1.2, "Breville": 1.3, "Sony": 1.15,
    "Bose": 1.2, "Garmin": 1.25, "Suunto": 1.2, "Manduka": 1.15, "Lululemon": 1.2, "Big Agnes": 1.15, "MSR": 1.15,
    "Osprey": 1.1, "Salomon": 1.1, "Hydro Flask": 1.1, "Casetify": 1.1, "Kiehl's": 1.4, "Coleman": 0.65,
    "Anker": 0.55, "Amazfit": 0.55, "Gaiam": 0.7, "Nalgene": 0.8, "Victorinox": 0.6, "Cuisinart": 0.85,
    "Harbor Lane Basics": 0.7, "Wrangler": 0.75, "Converse": 0.9, "Vans": 0.9, "Trailpeak": 0.85,
    "CeraVe": 0.7, "The Ordinary": 0.5, "Fitbit": 0.8, "Spigen": 0.7, "Columbia": 0.85, "JBL": 0.75, "Bodum": 0.9,
}

COLOR_CODES = {
    "black": "BLK", "white": "WHT", "grey": "GRY", "navy": "NVY", "blue": "BLU", "red": "RED", "green": "GRN",
    "olive": "OLV", "brown": "BRN", "tan": "TAN", "beige": "BEI", "pink": "PNK", "purple": "PUR", "yellow": "YEL",
    "orange": "ORG", "silver": "SLV", "teal": "TEL", "burgundy": "BUR", "charcoal": "CHR", "cream": "CRM",
    "clear": "CLR",
}

# Model names: first word, optional second word, optional version number (share, lowest, highest).
_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[float, int, int]]] = {
    name: (tuple(first.split()), tuple(second.split()), version) for name, first, second, version in (
        ("running shoes", "Tempo Pulse Glide Stride Vapor Nimbus Cirrus Swift Drift Flux Aero Surge Kinetic Zephyr "
                          "Rival Ember Vector Velo Strata Fleet Nova Blaze Sonic Cadence", "Run Racer Glide Flow Speed "
                          "Trainer Max Pro Elite Fly Boost Edge", (0.6, 2, 12)),
        ("hiking boots", "Ridge Summit Talus Granite Cascade Switchback Basin Timber Canyon Rover Alder Juniper Sierra "
                         "Boulder Scree Crag Tundra Moraine Pioneer Traverse", "Trek Hiker Peak Quest Guide Ascent "
                         "Explorer Scout", (0.5, 2, 5)),
        ("sneakers", "Court Canvas Street Metro Classic Retro Avenue Park Union Lincoln Varsity Plaza Legacy Parkway "
                     "Haven Cove Club Old-School", "Classic Club Original Lux Vintage Prime Core 70 90", (0.2, 2, 4)),
        ("rain jackets", "Storm Torrent Squall Drizzle Monsoon Tempest Cloudburst Deluge Stratus Gale Mistral Horizon "
                         "Pacific Coastline Downpour", "Shell Pro Lite Guard Tech Ultra Active", (0.3, 2, 4)),
        ("down jackets", "Alpine Glacier Polar Frost Aspen Boreal Ember Ridgeline Icefall Nordic Whistler Tundra "
                         "Snowline Cirque Fjord", "Loft Puff Lite Pro Thermo Ultra Classic", (0.25, 2, 4)),
        ("t-shirts", "Everyday Essential Heritage Field Trail Coastal Weekend Studio Daily Summit Core Classic Legacy "
                     "Journey Basecamp Signature Boardwalk", "Classic Breeze Soft Light Flex Active", (0.0, 0, 0)),
        ("jeans", "Original Heritage Vintage Everyday Authentic Western Urban Classic Premium Weekend Icon Legacy",
         "Denim Selvedge Workwear", (0.7, 500, 599)),
        ("backpacks", "Atlas Voyager Nomad Transit Summit Ridge Cascade Pathfinder Trekker Wander Roam Compass "
                      "Basecamp Meridian Horizon Rambler Outpost", "Pack Pro Plus Lite Trek Carry", (0.3, 2, 4)),
        ("tents", "Skyline Starlight Meadow Basecamp Ridgeline Pinnacle Haven Lookout Firefly Campfire Wildflower "
                  "Outpost Switchback Aurora", "Dome UL HV Plus Pro XL Trail", (0.35, 2, 4)),
        ("sleeping bags", "Ember Nightfall Dreamer Cocoon Hearth Lantern Campfire Snowbird Aurora Dusk Starlight "
                          "Solstice Nightjar", "Lite UL Pro Plus Classic", (0.3, 2, 4)),
        ("water bottles", "Everyday Trail Summit Chill Flow Sip Pure Quench Glacier Arctic Cascade Current Tide "
                          "Oasis", "Flex Pro Plus Chug Sport Go Lite", (0.1, 2, 3)),
        ("yoga mats", "Zen Lotus Balance Flow Align Harmony Sutra Mantra Asana Vinyasa Serene Ground Rooted Pure",
         "Pro Lite Plus Essential Studio", (0.15, 2, 3)),
        ("headphones", "Wave Pulse Echo Aura Tune Sonic Vibe Space Studio Motion Halo Clarity Beat Flow Nova Rhythm",
         "Pro Max Air Lite Plus Go Mini", (0.5, 2, 6)),
        ("smartwatches", "Pulse Vector Apex Trek Stride Active Pace Summit Core Zen Quest Ascent Orbit Halo Rhythm "
                         "Venture", "Pro Lite Plus Sport Max S X", (0.6, 2, 8)),
        ("phone cases", "Armor Shield Guard Fortress Ultra Tough Bumper Sleek Element Halo Aegis Strata Vault "
                        "Commuter Prism", "Series Pro Air Hybrid Max Lite", (0.0, 0, 0)),
        ("coffee makers", "Barista Brew Café Morning Aroma Crema Roast Daybreak Perk Sunrise Bean Grind Origin",
         "Pro Express Classic Touch Plus Elite Select Mini", (0.25, 2, 4)),
        ("kitchen knives", "Classic Gourmet Heritage Premier Master Artisan Precision Origin Forge Signature Legacy "
                           "Elite", "Pro Series Select", (0.0, 0, 0)),
        ("skincare", "Daily Gentle Ultra Advanced Intensive Clinical Pure Essential Barrier Calming", "Hydrating "
                     "Renewing Clarifying Soothing Brightening Repair Balancing Nourishing Restoring Smoothing",
         (0.0, 0, 0)),
    )
}

# Spec flags that may show up in the title when true ("Waterproof", "Noise Cancelling").
_TITLE_FLAGS = {
    "running shoes": (("waterproof", "Waterproof"),), "hiking boots": (("waterproof", "Waterproof"),),
    "rain jackets": (("packable", "Packable"),), "down jackets": (("packable", "Packable"),),
    "t-shirts": (("moisture_wicking", "Moisture-Wicking"),), "jeans": (("stretch", "Stretch"),),
    "water bottles": (("insulated", "Insulated"),), "yoga mats": (("non_slip", "Non-Slip"),),
    "headphones": (("wireless", "Wireless"), ("noise_cancelling", "Noise Cancelling")),
    "smartwatches": (("gps", "GPS"),), "phone cases": (("magsafe", "MagSafe"),),
    "coffee makers": (("programmable", "Programmable"),),
}
# Spec flags that make an adjective for the description ("a packable rain jacket") and a tag.
_FLAG_ADJECTIVES = {
    "waterproof": "waterproof", "packable": "packable", "insulated": "insulated", "wireless": "wireless",
    "noise_cancelling": "noise-cancelling", "stretch": "stretchy", "non_slip": "grippy", "gps": "GPS-enabled",
    "fragrance_free": "fragrance-free", "magsafe": "MagSafe-compatible", "moisture_wicking": "sweat-wicking",
    "programmable": "programmable", "freestanding": "freestanding", "laptop_sleeve": "laptop-ready",
}
_LIGHT_SUBCATEGORIES = frozenset({"racing", "lightweight", "ultralight", "packable", "travel"})

_ADJECTIVES = {
    "running shoes": ("versatile", "dependable", "smooth-riding", "comfortable"),
    "hiking boots": ("rugged", "supportive", "trail-ready", "dependable"),
    "sneakers": ("classic", "easygoing", "clean-looking", "timeless"),
    "rain jackets": ("weather-ready", "versatile", "trail-tested", "no-nonsense"),
    "down jackets": ("warm", "cozy", "trusty", "versatile"),
    "t-shirts": ("soft", "easy-wearing", "wardrobe-staple", "everyday"),
    "jeans": ("classic", "versatile", "well-cut", "easy-wearing"),
    "backpacks": ("well-organized", "comfortable", "tough", "versatile"),
    "tents": ("sturdy", "roomy", "weather-ready", "dependable"),
    "sleeping bags": ("cozy", "warm", "trail-ready", "dependable"),
    "water bottles": ("leak-proof", "rugged", "everyday", "reliable"),
    "yoga mats": ("supportive", "easy-care", "studio-ready", "dependable"),
    "headphones": ("comfortable", "great-sounding", "well-built", "easygoing"),
    "smartwatches": ("capable", "easy-to-read", "well-built", "smart"),
    "phone cases": ("protective", "well-fitting", "tough", "good-looking"),
    "coffee makers": ("reliable", "easy-to-use", "good-looking", "no-fuss"),
    "kitchen knives": ("razor-sharp", "well-balanced", "precise", "beautifully made"),
    "skincare": ("gentle", "effective", "lightweight", "no-fuss"),
}

_USES: dict[str, dict[str, tuple[str, ...]]] = {
    "running shoes": {
        "road": ("daily miles on pavement", "easy runs and long weekend miles", "city loops before work",
                 "half-marathon training"),
        "trail": ("muddy singletrack", "rocky mountain trails", "fast days on dirt paths",
                  "long runs off the pavement"),
        "racing": ("race day", "tempo sessions and 10K races", "chasing a new personal best", "marathon racing"),
        "stability": ("runners who overpronate", "long, steady miles", "high-mileage training weeks",
                      "everyday runs that need a little extra support")},
    "hiking boots": {
        "mid": ("day hikes on rough trails", "weekend hikes", "rocky switchbacks", "all-day trail miles"),
        "high": ("multi-day backpacking trips", "heavy loads on rough ground", "off-trail scrambles",
                 "long treks in the backcountry"),
        "lightweight": ("fast day hikes", "summer trail miles", "light hiking and travel", "well-groomed trails"),
        "winter": ("snowy trails", "winter walks", "cold, slushy days", "snowshoe outings")},
    "sneakers": {
        "low-top": ("everyday wear", "weekend errands", "casual days around town", "travel days"),
        "high-top": ("street style", "everyday wear", "casual nights out", "all-day wear around town"),
        "skate": ("skating the local park", "everyday wear", "street sessions", "casual days"),
        "slip-on": ("quick errands", "travel days", "easy summer days", "everyday wear")},
    "rain jackets": {
        "hardshell": ("stormy ridgelines", "alpine days in bad weather", "serious downpours", "wet, windy hikes"),
        "packable": ("travel", "just-in-case rain on day hikes", "summer storms", "festivals and city breaks"),
        "commuter": ("the daily commute", "rainy city days", "walking the dog in the rain", "drizzly bike rides"),
        "insulated": ("cold rainy days", "late-fall hikes", "wet winter commutes", "chilly, damp evenings")},
    "down jackets": {
        "puffer": ("cold city days", "chilly mornings at camp", "winter walks", "ski-lodge evenings"),
        "hooded": ("bitter winter days", "cold nights at camp", "winter travel", "windy, frigid walks"),
        "parka": ("deep-winter cold", "long waits at the bus stop in January", "the coldest days of the year",
                  "snowy city winters"),
        "ultralight": ("alpine starts", "backpacking trips where every gram counts", "layering under a shell",
                       "shoulder-season hikes"),
        "vest": ("layering", "crisp fall mornings", "brisk walks", "core warmth without bulky sleeves")},
    "t-shirts": {
        "crew": ("everyday wear", "layering", "lazy weekends", "casual office days"),
        "v-neck": ("everyday wear", "warm afternoons", "layering under a cardigan", "casual days"),
        "performance": ("workouts", "hot-weather runs", "gym sessions", "trail days"),
        "graphic": ("weekends", "concerts", "everyday wear", "casual days"),
        "pocket": ("everyday wear", "weekend errands", "workdays", "layering under a flannel")},
    "jeans": {
        "slim": ("everyday wear", "a night out", "smart-casual offices", "weekend errands"),
        "straight": ("everyday wear", "work and weekends", "casual days", "travel"),
        "relaxed": ("all-day comfort", "weekend projects", "casual days", "long drives"),
        "skinny": ("nights out", "everyday wear", "tucking into boots", "casual days"),
        "bootcut": ("wearing with boots", "everyday wear", "casual days", "weekends")},
    "backpacks": {
        "daypack": ("day hikes", "city days", "carrying the essentials", "day trips"),
        "hiking": ("overnight trips", "multi-day treks", "thru-hike sections", "weekend backpacking"),
        "travel": ("carry-on travel", "weekend getaways", "business trips", "one-bag travel"),
        "laptop": ("the daily commute", "campus days", "work trips", "coffee-shop work sessions")},
    "tents": {
        "backpacking": ("weekend backpacking trips", "long trail sections", "alpine lake camps",
                        "summer backcountry trips"),
        "camping": ("car camping", "family campouts", "festival weekends", "campground weekends"),
        "ultralight": ("fast-and-light trips", "thru-hikes", "bikepacking", "long-distance trails"),
        "mountaineering": ("high camps", "winter expeditions", "exposed, windy sites", "snow camping")},
    "sleeping bags": {
        "backpacking": ("three-season backpacking", "cool mountain nights", "weekend trips", "long trails"),
        "camping": ("car camping", "summer campouts", "sleepovers", "cabin weekends"),
        "ultralight": ("fast-and-light trips", "thru-hikes", "summer alpine nights", "bikepacking"),
        "winter": ("winter camping", "frosty nights", "snow camping", "cold-weather expeditions")},
    "water bottles": {
        "insulated": ("long workdays", "hot summer hikes", "road trips", "the gym"),
        "sports": ("the gym", "team practice", "bike rides", "runs"),
        "hiking": ("day hikes", "camping trips", "the trail", "travel"),
        "tumbler": ("the commute", "morning coffee", "long desk days", "road trips")},
    "yoga mats": {
        "standard": ("daily practice", "vinyasa classes", "home workouts", "stretching"),
        "travel": ("travel", "classes across town", "practice on the go", "hotel-room workouts"),
        "thick": ("floor workouts", "pilates", "gentle stretching", "knee-friendly practice"),
        "natural": ("daily practice", "mindful flows", "studio classes", "home practice")},
    "headphones": {
        "over-ear": ("long flights", "focused work sessions", "music at home", "the daily commute"),
        "on-ear": ("the commute", "casual listening", "calls and music", "travel"),
        "earbuds": ("the commute", "calls on the go", "podcasts and music", "travel"),
        "sport": ("workouts", "runs", "the gym", "outdoor training")},
    "smartwatches": {
        "fitness": ("tracking steps and sleep", "everyday fitness", "gym sessions", "building healthy habits"),
        "gps": ("run training", "race day", "tracking every split", "structured workouts"),
        "outdoor": ("long hikes", "ultramarathons", "backcountry trips", "multi-day adventures"),
        "everyday": ("everyday life", "notifications and workouts", "the office and the gym", "staying connected")},
    "phone cases": {
        "rugged": ("job sites", "outdoor adventures", "clumsy days", "active lifestyles"),
        "slim": ("everyday carry", "pocket-friendly protection", "minimalists", "daily use"),
        "clear": ("showing off your phone's color", "everyday protection", "daily use", "minimalists"),
        "wallet": ("carrying cards and cash", "leaving the wallet at home", "everyday carry", "travel")},
    "coffee makers": {
        "drip": ("busy mornings", "a full pot for the household", "weekend brunch", "the office kitchen"),
        "espresso": ("cafe-style drinks at home", "lattes and cappuccinos", "espresso lovers", "morning shots"),
        "french press": ("slow weekend mornings", "rich, full-bodied coffee", "camping trips", "small kitchens"),
        "pour-over": ("a careful morning ritual", "bright single-origin beans", "brewing one or two cups",
                      "slow coffee"),
        "single-serve": ("one cup at a time", "busy mornings", "dorm rooms", "small kitchens"),
        "cold brew": ("summer iced coffee", "make-ahead coffee", "smooth, low-acid brews", "hot afternoons")},
    "kitchen knives": {
        "chef's knife": ("everyday prep", "chopping vegetables", "weeknight dinners", "serious home cooking"),
        "santoku": ("slicing and dicing", "vegetable prep", "everyday prep", "precise cuts"),
        "paring knife": ("peeling and trimming", "small, precise tasks", "fruit and garnish work", "detail work"),
        "bread knife": ("crusty loaves", "tomatoes and soft fruit", "slicing cakes", "bakery-style bread"),
        "knife set": ("stocking a new kitchen", "a wedding gift", "upgrading your whole kit", "serious home cooks")},
    "skincare": {
        "moisturizer": ("daily hydration", "morning and night routines", "dry winter skin", "a simple routine"),
        "cleanser": ("morning and evening cleansing", "removing makeup and sunscreen", "a gentle daily routine",
                     "post-workout cleansing"),
        "serum": ("targeted care", "evening routines", "uneven tone", "a simple routine"),
        "sunscreen": ("daily sun protection", "beach days", "outdoor workouts", "everyday wear under makeup"),
        "eye cream": ("tired-looking eyes", "morning routines", "night routines", "delicate skin around the eyes")},
}

# First sentences. Fields: brand, owner (possessive brand), model, noun, adj, a_adj (adj with its article),
# use and use2 (both read right after "for").
_OPENERS = (
    "The {brand} {model} is {a_adj} {noun} made for {use}.",
    "Built for {use}, the {model} from {brand} is {a_adj} {noun}.",
    "Meet the {model}, {a_adj} {noun} from {brand}.",
    "{owner} {model} is {a_adj} {noun} for {use}.",
    "Whether you need it for {use} or {use2}, the {brand} {model} is up to the job.",
    "Looking for {a_adj} {noun}? The {brand} {model} was made for {use}.",
    "The {model} brings {owner} know-how to {a_adj} {noun}.",
    "For {use}, reach for the {brand} {model}.",
    "This {adj} {noun} from {brand} is designed for {use}.",
    "Say hello to the {model}, {owner} take on the {adj} {noun}.",
    "Made for {use}, the {brand} {model} keeps things simple.",
    "Designed with {use} in mind, the {model} is {a_adj} {noun} from {brand}.",
    "{brand} made the {model} for anyone who wants {a_adj} {noun}.",
    "If you need something for {use}, the {brand} {model} belongs on your list.",
    "The {model} is {owner} pick for {use}: {a_adj} {noun} with nothing you don't need.",
)
_USE_LINES = (
    "It's also a great pick for {use2}.", "It works just as well for {use2}.",
    "Plenty of shoppers buy it for {use2}, too.", "Good for {use2} as well.",
)

# Spec sentences, looked up as "category:key" first, then "key". A dict picks by value ("*": any other value).
# Fields: v (the value) and every spec by name.
_SPEC_LINES: dict[str, tuple[str, ...] | dict] = {
    "weight_g": ("It weighs about {v} g.", "Claimed weight is {v} g.", "It comes in at roughly {v} g."),
    "running shoes:weight_g": ("Each shoe weighs about {v} g.", "Weight is roughly {v} g per shoe.",
                               "At {v} g a shoe, it is easy to live with on long runs."),
    "hiking boots:weight_g": ("Each boot weighs around {v} g.", "Weight comes in at about {v} g per boot."),
    "sneakers:weight_g": ("Each shoe weighs about {v} g.",),
    "drop_mm": ("It has a {v} mm heel-to-toe drop.", "The heel-to-toe drop is {v} mm.",
                "A {v} mm drop sets the geometry."),
    "cushioning": {
        "minimal": ("Minimal cushioning keeps you close to the ground for a fast, connected feel.",
                    "The midsole is firm and minimal, built for speed."),
        "moderate": ("Moderate cushioning balances comfort and response.",
                     "The midsole offers moderate cushioning that works for most paces."),
        "plush": ("Plush cushioning gives a soft, forgiving ride.", "The midsole is plush and comfortable."),
        "maximum": ("Maximum cushioning soaks up long miles.", "A thick, max-cushioned midsole protects tired legs.")},
    "waterproof": {
        True: ("It is fully waterproof, so wet days are no excuse.", "A waterproof build keeps feet dry.",
               "Waterproof construction keeps rain and puddles out."),
        False: ("A breathable upper keeps air moving on warm days.",)},
    "rain jackets:waterproof": {True: ("It is fully waterproof with taped seams.",
                                       "Taped seams keep it waterproof in a downpour.")},
    "down jackets:waterproof": {False: ()},
    "waterproof_rating": ("Waterproofing comes from a {v}.", "The {v} keeps water out."),
    "rain jackets:waterproof_rating": ("The shell is rated to {v}.", "Its fabric is rated {v} waterproof.",
                                       "A {v} waterproof rating handles real storms."),
    "ankle_height": {"low": ("A low cut keeps it nimble.",), "mid": ("A mid-height collar steadies the ankle.",),
                     "high": ("A high collar supports the ankle under load.",)},
    "insulation_g": ("{v} g of synthetic insulation keeps toes warm.", "It is insulated with {v} g fill."),
    "upper": ("The upper is {v}.", "It has a {v} upper."),
    "closure": {"slip-on": ("No laces: it slips right on.",), "lace-up": ("Classic laces dial in the fit.",)},
    "sole": ("It rides on a {v} sole.", "Underfoot is a {v} sole."),
    "packable": {True: ("It packs down small for travel.", "It stuffs into its own pocket."), False: ()},
    "insulation": {"none": ("It is a shell with no insulation, so layer underneath as needed.",),
                   "synthetic": ("Synthetic insulation adds warmth that works even when damp.",),
                   "*": ("It is filled with {v}.", "Warmth comes from {v}.")},
    "fill_power": ("{v}-fill-power down gives a lot of warmth for its weight.", "It is insulated with {v}-fill down."),
    "water_repellent": {True: ("A water-repellent finish sheds light snow.",), False: ()},
    "material": ("It is made of {v}.", "The material is {v}."),
    "t-shirts:material": ("It is cut from {v}.", "The fabric is {v}."),
    "fit": ("It has a {v} fit.", "The cut is {v}."),
    "jeans:fit": ("A {v} fit through the leg.", "The {v} cut works with almost anything."),
    "moisture_wicking": {True: ("The fabric wicks sweat and dries fast.",), False: ()},
    "rise": ("It sits at a {v} rise.", "The rise is {v}."),
    "stretch": {True: ("A touch of stretch keeps it comfortable all day.",),
                False: ("Rigid denim that breaks in to your shape.",)},
    "capacity_l": ("It holds {v} liters.", "Capacity is {v} L.", "With {v} liters of space, packing is easy."),
    "laptop_sleeve": {True: ("A padded sleeve fits laptops up to {laptop_size_in} inches.",), False: ()},
    "hydration_compatible": {True: ("A hydration sleeve takes a water reservoir.",), False: ()},
    "capacity_persons": {1: ("It is a solo shelter for one.",), "*": ("It sleeps {v}.",
                                                                      "There is room for {v} people.")},
    "season": {"3-season": ("It is a 3-season tent for spring through fall.",),
               "4-season": ("It is a true 4-season tent that stands up to snow and wind.",)},
    "weight_kg": ("It weighs {v} kg.", "Packed weight is about {v} kg."),
    "packed_size": ("Packed size is {v}.", "It packs down to {v}."),
    "freestanding": {True: ("The freestanding design pitches anywhere.",),
                     False: ("It pitches with trekking poles to save weight.",)},
    "temp_rating_f": ("It is rated to {v}°F.", "The temperature rating is {v}°F."),
    "fill": ("It is filled with {v} insulation.", "Its {v} insulation traps heat efficiently."),
    "shape": ("It has a {v} cut.", "The {v} shape balances warmth and room."),
    "capacity_oz": ("It holds {v} oz ({capacity_ml} ml).", "Capacity is {v} oz, about {capacity_ml} ml."),
    "insulated": {True: ("Double-wall vacuum insulation keeps drinks cold for {keeps_cold_h} hours and hot "
                         "for {keeps_hot_h}.", "It keeps drinks cold up to {keeps_cold_h} hours, hot up to "
                         "{keeps_hot_h}."),
                  False: ("Single-wall construction keeps it light.",)},
    "dishwasher_safe": {True: ("It is dishwasher safe.", "Cleanup is easy: it goes in the dishwasher."),
                        False: ("Hand wash to keep it looking new.",)},
    "kitchen knives:dishwasher_safe": {False: ("Hand wash and dry it right away to protect the edge.",
                                               "Hand washing keeps the edge keen.")},
    "thickness_mm": ("It is {v} mm thick.", "At {v} mm thick, it cushions joints on hard floors."),
    "non_slip": {True: ("A non-slip surface grips even when you sweat.", "It has a grippy, non-slip texture."),
                 False: ()},
    "noise_cancelling": {True: ("Active noise cancelling shuts out engines and chatter.",
                                "Noise cancelling makes busy trains calm."),
                         False: ()},
    "battery_life_h": ("Battery life is up to {v} hours.", "It runs up to {v} hours per charge."),
    "wireless": {True: ("It connects over Bluetooth.",),
                 False: ("It plugs in with a classic cable, so there is nothing to charge.",)},
    "water_resistance": {"none": (), "*": ("It is {v} rated against sweat and splashes.",
                                           "An {v} rating shrugs off sweat and rain.")},
    "battery_life_days": ("The battery lasts up to {v} days.", "Expect up to {v} days between charges."),
    "gps": {True: ("Built-in GPS tracks pace and distance without your phone.",),
            False: ("It uses your phone's location for outdoor workouts.",)},
    "heart_rate": {True: ("A wrist heart rate sensor tracks effort around the clock.",), False: ()},
    "water_resistance_atm": ("It is water resistant to {v} ATM.", "Swim-proof to {v} ATM."),
    "display": ("It has a bright {v} display.", "The {v} screen is easy to read."),
    "compatible_phones": ("It fits the {v}.", "Made to fit the {v}."),
    "drop_protection_ft": ("It is drop tested to {v} ft.", "Protection is rated for drops up to {v} ft."),
    "magsafe": {True: ("Built-in magnets work with MagSafe chargers and mounts.",), False: ()},
    "phone cases:material": ("It is made of {v}.",),
    "type": (),
    "capacity_cups": {1: ("It brews one cup at a time.",), "*": ("It makes up to {v} cups.",
                                                                 "Capacity is {v} cups.")},
    "programmable": {True: ("A programmable timer has coffee ready when you wake up.",), False: ()},
    "dishwasher_safe_parts": {True: ("Removable parts are dishwasher safe.",),
                              False: ("Parts rinse clean by hand.",)},
    "power_w": ("It draws {v} W.",),
    "pieces": ("The set has {v} pieces.", "It is a {v}-piece set."),
    "blade_length_in": ("The blade is {v} inches long.", "It has a {v}-inch blade."),
    "steel": ("The blade is {v}.", "It is made from {v}."),
    "full_tang": {True: ("A full tang gives it balance and strength.",), False: ()},
    "skin_type": {"all": ("It suits all skin types.",), "*": ("It is formulated for {v} skin.",
                                                                "Best for {v} skin.")},
    "volume_ml": ("The bottle holds {v} ml.", "Size: {v} ml."),
    "key_ingredient": ("The key ingredient is {v}.", "It is made with {v}."),
    "fragrance_free": {True: ("It is fragrance-free.", "No added fragrance."),
                       False: ("It has a light, fresh scent.",)},
    "spf": ("It offers SPF {v} broad-spectrum protection.", "SPF {v} protects against UVA and UVB."),
}

_BENEFITS = {
    "running shoes": ("A padded collar and gusseted tongue lock the heel in place.",
                      "Reflective details help on early-morning runs.",
                      "Rubber sits where runners wear through first."),
    "hiking boots": ("A rubber toe cap shrugs off rocks and roots.", "Deep lugs bite into loose dirt.",
                     "A cushioned footbed stays comfortable mile after mile."),
    "sneakers": ("A cushioned insole keeps it comfortable all day.", "It pairs with jeans, shorts and chinos alike.",
                 "The timeless shape never goes out of style."),
    "rain jackets": ("An adjustable hood keeps the rain out of your eyes.",
                     "Pit zips dump heat on the uphill.", "Zippered hand pockets keep essentials close."),
    "down jackets": ("A soft, brushed lining feels great next to skin.", "Zippered hand pockets warm cold fingers.",
                     "A cinchable hem seals out drafts."),
    "t-shirts": ("Flat seams keep it comfortable under a pack strap.", "It holds its shape wash after wash.",
                 "A tag-free neck means no itching."),
    "jeans": ("Five-pocket styling never goes out of date.", "Reinforced stitching holds up to daily wear.",
              "Deep front pockets hold a phone securely."),
    "backpacks": ("Padded shoulder straps spread the load.", "A stretchy front pocket swallows a jacket.",
                  "Side pockets keep a bottle within reach."),
    "tents": ("Color-coded poles make setup quick.", "A roomy vestibule keeps gear out of the rain.",
              "Mesh panels cut condensation on warm nights."),
    "sleeping bags": ("A full-length draft tube stops cold spots along the zipper.",
                      "An anti-snag zipper runs smoothly in the dark.",
                      "A stuff sack is included."),
    "water bottles": ("A leak-proof lid means no surprises in your bag.", "A carry loop makes it easy to clip on.",
                      "The lid opens easily with one hand."),
    "yoga mats": ("Alignment marks help with positioning.", "It rolls up easily and stays flat when unrolled.",
                  "The surface wipes clean after class."),
    "headphones": ("A comfortable fit means you forget you're wearing them.",
                   "Clear, balanced sound works for every genre.", "Controls are simple and easy to find."),
    "smartwatches": ("Sleep tracking shows how well you recover.", "Smart notifications keep you in the loop.",
                     "A quick-release band swaps in seconds."),
    "phone cases": ("Raised edges protect the screen and camera.", "Buttons stay clicky and responsive.",
                    "It slides in and out of pockets easily."),
    "coffee makers": ("A compact footprint saves counter space.", "It is simple enough to use before coffee.",
                      "It is easy to clean after each brew."),
    "kitchen knives": ("Comfortable in the hand through long prep sessions.",
                       "A precise edge makes clean, even slices.", "It arrives sharp out of the box."),
    "skincare": ("It is gentle enough for everyday use.", "A little goes a long way.", "Dermatologist tested."),
}
_ELECTRONICS = frozenset({"headphones", "smartwatches"})
_SIZED = frozenset(c.name for c in CATEGORIES if c.sizes)


def _closers(category: str) -> tuple[str, ...]:
    """Store facts from STORE.md that apply to this category."""
    lines = ["Free standard shipping on orders of $50 or more.", "Order before 2 pm Eastern and it ships today."]
    if category in _ELECTRONICS or category == "coffee makers":
        lines.append("Covered by a 1-year warranty against manufacturing defects.")
    if category == "kitchen knives":
        lines.append("Backed by a lifetime warranty against defects.")
    if category in _SIZED:
        lines.append("Need a different size or colour? Exchanges are free within the return window.")
    return tuple(lines)


_CLOSERS = {c.name: _closers(c.name) for c in CATEGORIES}

# ---- reviews ------------------------------------------------------------------------------------------------
_REVIEW_OPENERS = {
    5: ("Love it.", "Absolutely worth it.", "Best purchase I've made this year.", "Exceeded my expectations.",
        "Five stars, no complaints.", "Would buy again in a heartbeat."),
    4: ("Really happy with this.", "Very good overall.", "Solid choice.", "Pretty great for the price.",
        "Does exactly what I wanted."),
    3: ("It's okay.", "Decent, but not amazing.", "Mixed feelings on this one.", "Fine for the price.",
        "Does the job, nothing special."),
    2: ("Disappointed.", "Not what I hoped for.", "Wanted to like it more.", "Below my expectations."),
    1: ("Would not buy again.", "Really disappointed.", "Not worth the money.", "Sadly, a miss for me."),
}
_REVIEW_LOW = ("The color looked different from the photos.", "It started showing wear sooner than I expected.",
               "Quality control seems hit or miss.", "For this price I expected better finishing.",
               "Shipping was quick, but the product itself let me down.")
_REVIEW_MIDDLE = ("Good in some ways, average in others.", "Not bad, but I've had better.",
                  "It works, but the finish could be nicer.", "Fine for occasional use.")
# (spec key or None, required value or "*" for any, text): said only when the product's specs agree.
_REVIEW_PRAISE: dict[str, tuple[tuple[str | None, object, str], ...]] = {
    "running shoes": ((None, None, "Super comfortable from the first run."),
                      ("waterproof", True, "Kept my feet dry on a rainy trail run."),
                      ("cushioning", "plush", "The cushioning is soft without feeling mushy."),
                      ("cushioning", "maximum", "Tons of cushion, my knees thank me."),
                      ("cushioning", "minimal", "Feels fast and close to the ground."),
                      (None, None, "Already put 100 miles on them with no issues.")),
    "hiking boots": (("waterproof", True, "Stayed dry through a couple of creek crossings."),
                     (None, None, "Barely needed breaking in."),
                     ("ankle_height", "high", "Great ankle support on rocky descents."),
                     (None, None, "Solid grip on wet rock.")),
    "sneakers": ((None, None, "Goes with everything."), (None, None, "Comfortable enough to wear all day."),
                 (None, None, "Classic look, and they hold up well.")),
    "rain jackets": ((None, None, "Stayed completely dry in a downpour."),
                     ("packable", True, "Packs down small enough to live in my bag."),
                     (None, None, "The hood fits well and doesn't block my view.")),
    "down jackets": ((None, None, "So warm, I wear it all winter."),
                     ("packable", True, "Stuffs into its own pocket for travel."),
                     (None, None, "The fit is great and the zipper is smooth.")),
    "t-shirts": ((None, None, "Soft fabric, and it held its shape after washing."),
                 ("moisture_wicking", True, "Dries fast after a sweaty workout."),
                 (None, None, "Great everyday tee.")),
    "jeans": ((None, None, "Great fit through the leg."),
              ("stretch", True, "Just enough stretch to be comfortable all day."),
              ("stretch", False, "Sturdy denim that is breaking in nicely.")),
    "backpacks": ((None, None, "Carries comfortably even when full."),
                  ("laptop_sleeve", True, "The laptop sleeve is well padded."),
                  ("hydration_compatible", True, "My hydration bladder fits perfectly."),
                  (None, None, "Lots of useful pockets.")),
    "tents": ((None, None, "Sets up in minutes."), (None, None, "Stayed dry through an overnight storm."),
              ("freestanding", True, "Freestanding, so pitching on rocky ground is easy.")),
    "sleeping bags": ((None, None, "Warm and cozy, slept great."), (None, None, "The zipper never snags."),
                      (None, None, "Packs down smaller than I expected.")),
    "water bottles": (("insulated", True, "Ice was still there the next afternoon."),
                      (None, None, "No leaks in my bag."), ("dishwasher_safe", True, "Goes right in the dishwasher.")),
    "yoga mats": (("non_slip", True, "No slipping, even in a hot class."),
                  (None, None, "Rolls up easily and doesn't smell."), (None, None, "Great for my daily practice.")),
    "headphones": (("noise_cancelling", True, "The noise cancelling is excellent on planes."),
                   ("battery_life_h", "*", "Battery life is as good as advertised."),
                   (None, None, "Clear sound with solid bass."), (None, None, "Comfortable for hours.")),
    "smartwatches": (("gps", True, "GPS locks on fast and tracks accurately."),
                     (None, None, "Battery life matches what they claim."),
                     (None, None, "Sleep tracking is surprisingly useful.")),
    "phone cases": ((None, None, "Survived several drops already."),
                    ("magsafe", True, "My MagSafe charger snaps right on."),
                    (None, None, "Buttons are easy to press.")),
    "coffee makers": ((None, None, "Makes a great cup every morning."),
                      ("programmable", True, "Waking up to fresh coffee is the best."), (None, None, "Easy to use.")),
    "kitchen knives": ((None, None, "Came scary sharp and stays that way."), (None, None, "Well balanced in the hand."),
                       (None, None, "Makes prep so much faster.")),
    "skincare": ((None, None, "My skin feels so much softer."),
                 ("fragrance_free", True, "No fragrance, so it doesn't irritate my sensitive skin."),
                 (None, None, "A little goes a long way.")),
}
_FIT_LINES = {
    "true to size": ("Fits true to size.", "I ordered my usual size and it's true to size.", "True to size for me."),
    "runs small": ("Runs small, so size up.", "It runs small; I exchanged for the next size up.",
                   "Heads up: runs small."),
    "runs large": ("Runs large, consider sizing down.", "Runs a bit large, I went down a size.",
                   "Roomy fit, it runs large."),
}
_FIRST_NAMES = ("Maya Jordan Priya Liam Sofia Ethan Chloe Noah Aisha Lucas Emma Diego Hannah Omar Grace Mateo Zoe "
                "Caleb Nina Owen Leah Ravi Ava Miles Ivy Elena Sam Jonah Tara Felix Mia Kenji Rosa Ben Lila Theo "
                "Fatima Marcus Julia Andre").split()


class _Random(random.Random):
    """random.Random with float-based choice/randint/randrange/sample/shuffle: several times faster than the stock
    versions (the generator makes ~40 draws per product), and a stream that depends only on random(), which
    Python keeps stable across versions."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def sample(self, population, k: int) -> list:
        pool = list(population)
        for i in range(k):  # the first k steps of a Fisher-Yates shuffle
            j = i + int(self.random() * (len(pool) - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def shuffle(self, x: list) -> None:
        for i in range(len(x) - 1, 0, -1):
            j = int(self.random() * (i + 1))
            x[i], x[j] = x[j], x[i]


def _code(text: str, length: int) -> str:
    """SKU code: initials of a multi-word name ("The North Face" -> "TNF"), else its first letters, ASCII only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in ascii_text.replace("-", " ").replace("'", "").split() if w]
    letters = "".join(w[0] for w in words) if len(words) > 1 else words[0]
    return letters[:length].upper()


_CATEGORY_CODES = {c.name: _code(c.name, 2) for c in CATEGORIES}
_BRAND_CODES = {b: _code(b, 3) for c in CATEGORIES for b in c.brands}


def _schedule() -> list[Category]:
    """Categories in a smooth weighted round-robin: every category appears within the first 100 products and
    the mix is right at any count."""
    credit = {c.name: 0 for c in CATEGORIES}
    total = sum(c.share for c in CATEGORIES)
    order = []
    for _ in range(total):
        for c in CATEGORIES:
            credit[c.name] += c.share
        best = max(CATEGORIES, key=lambda c: credit[c.name])
        credit[best.name] -= total
        order.append(best)
    return order


_SCHEDULE = _schedule()
_SUBCATEGORIES = {(c.name, brand): c.subcategories_for(brand) for c in CATEGORIES for brand in c.brands}


def _owner(brand: str) -> str:
    return brand if brand.endswith("'s") else brand + ("'" if brand.endswith("s") else "'s")


def _model_name(rng: random.Random, category: str) -> str:
    first, second, (share, low, high) = _MODELS[category]
    words = [rng.choice(first)]
    if rng.random() < 0.55:
        words.append(rng.choice(second))
    if rng.random() < share:
        words.append(str(rng.randint(low, high)))
    return " ".join(words)


def _price_cents(rng: random.Random, sub: Subcategory, brand: str) -> int:
    dollars = max(5, round(rng.uniform(*sub.price) * BRAND_LEVEL.get(brand, 1.0)))
    return dollars * 100 - (5 if rng.random() < 0.2 else 1)


def _sale_cents(rng: random.Random, cents: int) -> int | None:
    """10-40% off about one product in five, rounded down to a price ending in 9 ($67.49); None when not on sale."""
    if rng.random() >= 0.2:
        return None
    percent = rng.choice((10, 15, 20, 25, 30, 35, 40))
    return cents * (100 - percent) // 1000 * 10 - 1


def _rating(rng: random.Random) -> tuple[float | None, int]:
    if rng.random() < 0.07:
        return None, 0
    rating = 5.0 - rng.gammavariate(1.6, 0.45)
    return round(min(5.0, max(1.0, rating)), 1), int(rng.lognormvariate(3.2, 1.3)) + 1


def _sizes(rng: random.Random, category: Category, gender: str) -> list[str]:
    scheme = category.sizes
    if not scheme:
        return []
    if scheme[0] == "XS":
        start, stop = {"women": (0, rng.choice((5, 6))), "men": (rng.choice((0, 1)), 6)}.get(gender, (0, 6))
    else:
        start, stop = {"women": (0, rng.choice((11, 13))), "men": (rng.choice((2, 4)), 15)}.get(gender, (0, 15))
    return list(scheme[start:stop])


def _colors(rng: random.Random, pool: tuple[str, ...]) -> list[str]:
    if not pool:
        return []
    count = min(len(pool), rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))
    return rng.sample(pool, count)


def _variants(rng: random.Random, sku: str, colors: list[str], sizes: list[str]) -> list[Variant]:
    """One variant per colour x size; about 15% of them sold out (all of them for 3% of products)."""
    in_stock_share = 0.0 if rng.random() < 0.03 else 0.85
    variants = []
    for color in colors or [None]:
        prefix = f"{sku}-{COLOR_CODES[color]}" if color else sku
        for size in sizes or [None]:
            draw = rng.random()  # one draw decides both "in stock?" and how many
            stock = 1 + int(draw / in_stock_share * 30) if draw < in_stock_share else 0
            variants.append(Variant(f"{prefix}-{size}" if size else prefix, color, size, stock))
    return variants


def _title(rng: random.Random, category: Category, brand: str, model: str, gender: str, label: str,
           specs: dict) -> str:
    flags = [word for key, word in _TITLE_FLAGS.get(category.name, ())
             if specs.get(key) is True and word.lower() not in label.lower() and rng.random() < 0.6]
    who = {"men": "Men's", "women": "Women's"}.get(gender)
    return " ".join([brand, model, *([who] if who else []), *flags, label])


@lru_cache(maxsize=None)
def _spec_entry(category: str, key: str) -> tuple[str, ...] | dict:
    return _SPEC_LINES.get(f"{category}:{key}", _SPEC_LINES.get(key, ()))


def _spec_templates(category: str, key: str, value) -> tuple[str, ...]:
    """The sentences that can state this spec value; empty when it is better left unsaid."""
    entry = _spec_entry(category, key)
    if isinstance(entry, dict):
        return entry.get("*", ()) if isinstance(value, list) else entry.get(value, entry.get("*", ()))
    return entry


def _spec_lines(rng: random.Random, category: str, specs: dict) -> list[str]:
    """Two to four spec sentences in random order."""
    sayable = [(key, templates) for key, value in specs.items() if (templates := _spec_templates(category, key, value))]
    chosen = rng.sample(sayable, min(len(sayable), rng.randint(2, 4)))
    lines = []
    for key, templates in chosen:
        value = specs[key]
        shown = ", ".join(value) if isinstance(value, list) else value
        lines.append(rng.choice(templates).format(v=shown, **specs))
    return lines


def _description(rng: random.Random, category: Category, sub: Subcategory, brand: str, model: str,
                 specs: dict) -> str:
    uses = _USES[category.name][sub.name]
    use, use2 = rng.sample(uses, 2)
    flag_adjectives = [_FLAG_ADJECTIVES[k] for k, v in specs.items() if v is True and k in _FLAG_ADJECTIVES]
    if sub.name in _LIGHT_SUBCATEGORIES:
        flag_adjectives.append("lightweight")
    pool = [a for a in (*flag_adjectives, *flag_adjectives, *_ADJECTIVES[category.name]) if a not in sub.noun]
    adjective = rng.choice(pool)
    article = "an" if adjective[0] in "aeiou" else "a"
    fields = {"brand": brand, "owner": _owner(brand), "model": model, "noun": sub.noun, "adj": adjective,
              "a_adj": f"{article} {adjective}", "use": use, "use2": use2}
    opener = rng.choice(_OPENERS).format(**fields)
    middle = _spec_lines(rng, category.name, specs)
    if rng.random() < 0.7:
        middle.append(rng.choice(_BENEFITS[category.name]))
    if rng.random() < 0.35 and "{use2}" not in opener:
        middle.append(rng.choice(_USE_LINES).format(**fields))
    rng.shuffle(middle)
    closing = [rng.choice(_CLOSERS[category.name])] if rng.random() < 0.45 else []
    return " ".join([opener, *middle, *closing])


def _reviews(rng: random.Random, category: Category, specs: dict, rating: float, count: int) -> list[Review]:
    praise = [text for key, value, text in _REVIEW_PRAISE[category.name]
              if key is None or (key in specs and (value == "*" or specs[key] == value))]
    fit = rng.choice(("true to size",) * 3 + ("runs small", "runs large")) if category.sizes else None
    reviews = []
    for _ in range(count):
        stars = min(5, max(1, round(rng.gauss(rating, 0.9))))
        parts = [rng.choice(_REVIEW_OPENERS[stars])]
        parts.append(rng.choice(praise if stars >= 4 else _REVIEW_MIDDLE if stars == 3 else _REVIEW_LOW))
        if fit and rng.random() < 0.5:
            parts.append(rng.choice(_FIT_LINES[fit]))
        author = f"{rng.choice(_FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
        reviews.append(Review(stars, author, " ".join(parts)))
    return reviews


def _review_count_to_write(rng: random.Random, review_count: int, few: bool) -> int:
    wanted = (1 if rng.random() < 0.3 else 0) if few else rng.choice((0, 1, 1, 2, 2, 3, 3, 4))
    return min(review_count, wanted)


def _tags(gender: str, specs: dict, rating: float | None, review_count: int, rng: random.Random) -> list[str]:
    tags = [gender] if gender else []
    tags += [key.replace("_", " ") for key, value in specs.items() if value is True and key in _FLAG_ADJECTIVES]
    if rating and rating >= 4.5 and review_count >= 300:
        tags.append("bestseller")
    if rng.random() < 0.08:
        tags.append("new")
    return tags


def _product(rng: random.Random, number: int, category: Category, few_reviews: bool) -> Product:
    brand = rng.choice(category.brands)
    sub = rng.choice(_SUBCATEGORIES[category.name, brand])
    specs = category.specs(rng, sub.name, brand)
    gender = rng.choice(("men", "men", "women", "women", "unisex")) if category.gendered else ""
    model = _model_name(rng, category.name)
    phone = specs.get("compatible_phones", [""])[0]
    title = _title(rng, category, brand, model, gender, sub.label.format(phone=phone, **specs), specs)
    cents = _price_cents(rng, sub, brand)
    sale = _sale_cents(rng, cents)
    rating, review_count = _rating(rng)
    sku = f"{_CATEGORY_CODES[category.name]}-{_BRAND_CODES[brand]}-{number:06d}"
    colors = _colors(rng, sub.colors or category.colors)
    sizes = _sizes(rng, category, gender)
    variants = _variants(rng, sku, colors, sizes)
    product_id = f"HL-P{number:06d}"
    written = _review_count_to_write(rng, review_count, few_reviews)
    return Product(
        id=product_id, sku=sku, title=title, brand=brand, category=category.name, subcategory=sub.name,
        price=cents / 100, sale_price=None if sale is None else sale / 100, colors=colors, sizes=sizes,
        specs=specs, rating=rating, review_count=review_count, stock=sum(v.stock for v in variants),
        description=_description(rng, category, sub, brand, model, specs),
        image_url=f"https://images.harborlane.example/products/{product_id}.jpg",
        tags=_tags(gender, specs, rating, review_count, rng), variants=variants,
        reviews=_reviews(rng, category, specs, rating, written) if written else [])


def block_count(count: int) -> int:
    return -(-count // BLOCK_SIZE)


def generate_block(count: int, seed: int, block: int) -> Iterator[Product]:
    """The products of one block (numbers block * BLOCK_SIZE + 1 onwards) of a `count`-product catalog."""
    rng = _Random(f"harborlane:{seed}:{block}")
    few_reviews = count > FEW_REVIEWS_ABOVE
    for number in range(block * BLOCK_SIZE + 1, min((block + 1) * BLOCK_SIZE, count) + 1):
        yield _product(rng, number, _SCHEDULE[(number - 1) % len(_SCHEDULE)], few_reviews)


def generate_products(count: int = 2400, seed: int = 7) -> Iterator[Product]:
    """Yield `count` demo products, ids HL-P000001 upwards; the same (count, seed) always yields the same ones."""
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    for block in range(block_count(count)):
        yield from generate_block(count, seed, block)
