#!/usr/bin/env python3
"""Generate the default training corpus for `rnngpu train`.

What it generates
-----------------
An original, procedurally generated piece of English-like text of roughly
80 KB: the "log book" of a small coastal village. It interleaves four kinds
of entries, each with a strong, regular structure that a small character-level
RNN can pick up within about a minute of CPU training:

  * ship's log entries   ("Day twelve. The wind is from the north. ...")
  * weather reports      ("Weather for the harbor. Morning, cold and grey. ...")
  * short verses         (four-line nursery-rhyme-like stanzas)
  * tiny stories         ("The old fisher went to the mill. She saw a cat. ...")

Every sentence is assembled from fixed templates and a small vocabulary
(a few hundred distinct words), so words, spacing, capitalised sentence
starts and punctuation recur constantly, yet the combinations vary enough
that the text is not one repeated line. Nothing is copied from any book or
website; all text comes from the word lists and templates below.

Character set: ASCII letters, space, newline and . , ' ! ? only.

Determinism: a fixed seed (SEED below) is used with Python's own
random.Random, so the output is byte-for-byte identical on every run.

How to run (from the repository root, Python 3 standard library only):

    python3 tools/make_corpus.py > src/RnnGpu/Text/Corpus/default.txt

or let the script write the file itself:

    python3 tools/make_corpus.py --write
"""

import os
import random
import sys

SEED = 20240611          # fixed seed: output is deterministic
TARGET_BYTES = 80_000    # stop adding entries once the text reaches this size

# ---------------------------------------------------------------------------
# Vocabulary. Kept deliberately small so the model sees each word many times.
# ---------------------------------------------------------------------------

NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight",
           "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
           "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
           "twenty"]

DIRECTIONS = ["north", "south", "east", "west"]

WIND_STRENGTH = ["light", "soft", "steady", "fresh", "strong", "wild"]

SKY = ["clear", "grey", "cloudy", "bright", "dark", "pale", "misty"]

WEATHER_THINGS = ["rain", "fog", "snow", "sun", "hail", "mist", "frost"]

TEMPERATURE = ["cold", "cool", "mild", "warm", "hot"]

PARTS_OF_DAY = ["Morning", "Noon", "Evening", "Night"]

SEA_STATE = ["calm", "smooth", "choppy", "rough", "high"]

# People and animals that act in the stories and logs.
PEOPLE = ["the old fisher", "the young sailor", "the baker", "the miller",
          "the captain", "the cook", "the little girl", "the little boy",
          "the farmer", "the weaver", "the keeper", "the teacher"]

ANIMALS = ["cat", "dog", "goat", "hen", "crow", "fox", "mouse", "owl",
           "horse", "duck", "gull", "seal", "sheep", "frog"]

ANIMAL_ADJ = ["small", "big", "grey", "black", "white", "brown", "happy",
              "sleepy", "quick", "quiet", "hungry", "old", "little"]

PLACES = ["the mill", "the harbor", "the market", "the hill", "the wood",
          "the river", "the bridge", "the farm", "the church", "the shore",
          "the lighthouse", "the garden", "the well", "the school"]

THINGS = ["bread", "fish", "apples", "milk", "rope", "salt", "wool",
          "corn", "eggs", "honey", "nets", "wood", "tea", "cheese"]

ACTIONS_PAST = ["sang a song", "ate some bread", "slept in the sun",
                "ran down the lane", "sat by the fire", "looked at the sea",
                "counted the boats", "mended the nets", "fed the hens",
                "lit the lamp", "walked home", "waited by the door"]

FEELINGS = ["happy", "sad", "tired", "glad", "cold", "warm", "sleepy",
            "hungry", "proud", "afraid"]

SHIP_WORK = ["We mended the sail.", "We washed the deck.",
             "We checked the ropes.", "We pumped the water out.",
             "We cleaned the fish.", "We painted the rail.",
             "We tied down the boxes.", "We counted the barrels.",
             "We raised the small sail.", "We took the big sail down."]

SEEN_AT_SEA = ["a white gull", "two grey seals", "a big whale",
               "a small boat", "a red light", "a long ship",
               "many fish", "a dark cloud", "the old lighthouse",
               "an island", "three ducks", "a broken mast"]

# Rhymes for the verses: (word ending line one, full closing line four).
RHYMES = [("sea", "and nobody saw it but me."),
          ("hill", "and the night was quiet and still."),
          ("mill", "and it sat there, so small and so still."),
          ("well", "and what it saw there, who can tell?"),
          ("tree", "and it sang, oh how happy and free!"),
          ("bay", "where the water was cold and grey."),
          ("door", "and it slept on the kitchen floor."),
          ("boat", "in a little blue hat and a coat."),
          ("shore", "and it never came home any more."),
          ("gate", "and it stayed there till very late."),
          ("lane", "and it never came back again."),
          ("lake", "and it sang till the sun was awake.")]

# Food the ship's cook can make.
FOOD = ["bread", "fish soup", "tea", "porridge", "stew", "cakes",
        "pancakes", "rice"]


def cap(s):
    """Capitalise the first letter of a sentence."""
    return s[0].upper() + s[1:]


class Writer:
    """Builds the corpus from templates with a private random generator."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.day = 1

    def pick(self, items):
        return self.r.choice(items)

    # -- ship's log --------------------------------------------------------
    def ship_log(self):
        r = self.r
        n = NUMBERS[(self.day - 1) % len(NUMBERS)]
        self.day += 1
        lines = ["Ship's log, day %s." % n]
        lines.append("The wind is %s from the %s. The sea is %s."
                     % (self.pick(WIND_STRENGTH), self.pick(DIRECTIONS),
                        self.pick(SEA_STATE)))
        lines.append("The sky is %s, and there is %s."
                     % (self.pick(SKY), self.pick(WEATHER_THINGS)))
        for _ in range(r.randint(1, 3)):
            lines.append(self.pick(SHIP_WORK))
        if r.random() < 0.7:
            lines.append("We saw %s to the %s."
                         % (self.pick(SEEN_AT_SEA), self.pick(DIRECTIONS)))
        lines.append("The captain is %s. The cook made %s."
                     % (self.pick(FEELINGS), self.pick(FOOD)))
        lines.append(self.pick(["All is well.", "All is well on board.",
                                "We sail on.", "We sail on to the %s."
                                % self.pick(DIRECTIONS),
                                "We rest tonight."]))
        return "\n".join(lines)

    # -- weather report ----------------------------------------------------
    def weather(self):
        place = self.pick(["the harbor", "the hills", "the coast",
                           "the village", "the islands", "the valley"])
        lines = ["Weather for %s." % place]
        for part in PARTS_OF_DAY:
            if self.r.random() < 0.25 and part != "Morning":
                continue
            lines.append("%s, %s and %s. Wind %s, from the %s."
                         % (part, self.pick(TEMPERATURE), self.pick(SKY),
                            self.pick(WIND_STRENGTH), self.pick(DIRECTIONS)))
        lines.append(self.pick([
            "Some %s later." % self.pick(WEATHER_THINGS),
            "No %s today." % self.pick(WEATHER_THINGS),
            "A little %s in the %s." % (self.pick(WEATHER_THINGS),
                                        self.pick(["morning", "evening",
                                                   "night"])),
            "The sea will be %s." % self.pick(SEA_STATE),
        ]))
        return "\n".join(lines)

    # -- verse ---------------------------------------------------------------
    def verse(self):
        a, b = self.pick(RHYMES)
        animal = self.pick(ANIMALS)
        adj = self.pick(ANIMAL_ADJ)
        templates_a = [
            "The %s %s went down to the %s," % (adj, animal, a),
            "Oh %s %s, come sing by the %s," % (adj, animal, a),
            "I saw a %s %s by the %s," % (adj, animal, a),
            "Little %s, little %s, by the %s," % (animal, animal, a),
        ]
        middle = [
            "It had a hat and a %s coat," % self.pick(["red", "blue",
                                                        "green", "brown"]),
            "It ate the %s and ate the %s," % tuple(self.r.sample(THINGS, 2)),
            "It danced all day, it danced all night,",
            "With one, two, three, and four, five, six,",
            "The wind was %s, the sky was %s," % (self.pick(WIND_STRENGTH),
                                                   self.pick(SKY)),
            "It said hello to the %s %s," % (self.pick(ANIMAL_ADJ),
                                              self.pick(ANIMALS)),
        ]
        # Two different middle lines, then the closing line that rhymes.
        lines = [self.pick(templates_a)] + self.r.sample(middle, 2) + [cap(b)]
        return "\n".join(lines)

    # -- tiny story ----------------------------------------------------------
    def story(self):
        r = self.r
        who = self.pick(PEOPLE)
        pron = self.pick(["He", "She"])
        pos = "his" if pron == "He" else "her"
        animal = self.pick(ANIMALS)
        adj = self.pick(ANIMAL_ADJ)
        place = self.pick(PLACES)
        thing = self.pick(THINGS)
        s = []
        s.append("%s went to %s." % (cap(who), place))
        s.append("%s saw a %s %s." % (pron, adj, animal))
        s.append(self.pick([
            "The %s said, hello!" % animal,
            "The %s was %s." % (animal, self.pick(FEELINGS)),
            "The %s %s." % (animal, self.pick(ACTIONS_PAST)),
            "Where is your home, little %s?" % animal,
        ]))
        s.append("%s gave the %s some %s." % (pron, animal, thing))
        if r.random() < 0.5:
            s.append("Then %s %s." % (pron.lower(), self.pick(ACTIONS_PAST)))
        if r.random() < 0.5:
            s.append("It was %s, and the wind was %s."
                     % (self.pick(TEMPERATURE), self.pick(WIND_STRENGTH)))
        s.append(self.pick([
            "%s went home, %s and %s." % (pron, self.pick(FEELINGS),
                                           self.pick(FEELINGS)),
            "The %s went with %s." % (animal, "him" if pron == "He"
                                      else "her"),
            "%s told %s friend about it." % (pron, pos),
            "And that was the end of the day.",
        ]))
        # Lay the story out as one or two short paragraphs of sentences.
        cut = r.randint(2, len(s) - 1)
        return " ".join(s[:cut]) + "\n" + " ".join(s[cut:])

    def entry(self):
        kind = self.r.random()
        if kind < 0.30:
            return self.ship_log()
        if kind < 0.50:
            return self.weather()
        if kind < 0.70:
            return self.verse()
        return self.story()


def build():
    w = Writer(SEED)
    parts = []
    size = 0
    while size < TARGET_BYTES:
        e = w.entry()
        parts.append(e)
        size += len(e) + 2
    text = "\n\n".join(parts) + "\n"
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  " \n.,'!?")
    bad = set(text) - allowed
    assert not bad, "unexpected characters: %r" % sorted(bad)
    return text


def main():
    text = build()
    if "--write" in sys.argv[1:]:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = os.path.join(root, "src", "RnnGpu", "Text", "Corpus",
                            "default.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write(text)
        print("wrote %s (%d bytes)" % (path, len(text)), file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
