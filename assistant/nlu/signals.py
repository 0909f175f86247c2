"""Signals read straight from the raw text, next to what the trained model predicts.

- Shouting: three or more words, most letters in capitals, and at least one "!". Capitals alone are not enough
  (caps lock, or a model name like "XL"). A frustration signal: the dialogue hands over to a person.
- Too long: past MAX_MESSAGE_CHARS the message is not classified at all; the shopper is asked to shorten it,
  instead of a 20,000-character paste being forced into some intent.
- Another language: the assistant speaks English only (the NLU is trained on English). A message the NLU could
  not place that is plainly Spanish, French, German, Portuguese or Italian gets told so, in that language too,
  instead of "I didn't catch that" in English. Plain here means at least MIN_FOREIGN_WORDS of that language's
  common words and more of them than English ones: product names ("La Sportiva", "Le Creuset") and one stray
  word do not count. A bare "gracias" or "merci" counts on its own.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{2,}")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # "c'est" and "j'ai" stay one word
MIN_WORDS = 3
UPPER_SHARE = 0.8
MAX_MESSAGE_CHARS = 1000


def shouting(text: str) -> bool:
    words = _WORD.findall(text or "")
    letters = [c for word in words for c in word]
    if len(words) < MIN_WORDS or "!" not in text:
        return False
    return sum(c.isupper() for c in letters) >= UPPER_SHARE * len(letters)


def too_long(text: str) -> bool:
    return len(text or "") > MAX_MESSAGE_CHARS


MIN_FOREIGN_WORDS = 2
# Frequent words of each language that are not also English words (no "a", "me", "no", "son", "die", "come").
_COMMON_WORDS = {
    "es": "el la los las del que y en un una por para con mi mis está esta estoy dónde donde quiero tengo puedo "
          "cómo como cuándo cuando qué pedido pedidos gracias zapatos zapatillas hola es se lo al pero muy más tiene "
          "tienen hay envío devolver devolución necesito busco usted su sus buenos buenas días tardes favor talla "
          "precio cuánto cuesta mucho",
    "fr": "le la les des du je tu vous nous est et mon ma mes où pour avec une un pas ne commande merci bonjour "
          "voudrais veux chaussures livraison suis avez combien pourquoi comment quand c'est j'ai qu'est retourner "
          "remboursement taille prix cher aussi très",
    "de": "ich ist meine mein meinen wo der das und nicht bitte danke bestellung ein eine einen haben sie wir mit "
          "für schuhe wann wie warum kann möchte guten tag hallo zurückgeben rücksendung größe preis kostet sehr "
          "auch",
    "pt": "obrigado obrigada onde meu minha pedido quero não você está com para uma um sapatos olá tênis entrega "
          "devolver tamanho preço quanto custa muito também por favor",
    "it": "grazie dove il mio mia ordine voglio sono per scarpe ciao buongiorno è della non vorrei spedizione reso "
          "taglia prezzo quanto costa molto anche",
}
_FOREIGN = {language: frozenset(words.split()) for language, words in _COMMON_WORDS.items()}
_ENGLISH = frozenset(
    "the is are my where i you to for and of in on it do does what how can with this that order shoes please "
    "thanks want have has need any your me we be get size price return ship shipping".split())
# A word that settles the language alone: thanks and greetings English never uses.
_ON_ITS_OWN = {"gracias": "es", "merci": "fr", "bonjour": "fr", "danke": "de", "obrigado": "pt", "obrigada": "pt",
               "grazie": "it", "buongiorno": "it"}
_MARKS = {"¿": "es", "¡": "es", "ñ": "es", "ß": "de", "ç": "fr", "œ": "fr", "ã": "pt", "õ": "pt"}


def foreign_language(text: str) -> str | None:
    """The ISO 639-1 code of the language a message is plainly written in, when that is not English; else None."""
    lowered = (text or "").lower()
    words = _TOKEN.findall(lowered.replace("\u2019", "'"))
    if not words:
        return None
    if len(words) <= 2 and words[0] in _ON_ITS_OWN:
        return _ON_ITS_OWN[words[0]]
    distinct = set(words)  # "la la la" is one word of Spanish, not three
    counts = {language: len(distinct & common) for language, common in _FOREIGN.items()}
    for mark, language in _MARKS.items():
        if mark in lowered:
            counts[language] += 1
    language = max(counts, key=lambda name: counts[name])  # ties: the first listed
    english = len(distinct & _ENGLISH)
    return language if counts[language] >= MIN_FOREIGN_WORDS and counts[language] > english else None
