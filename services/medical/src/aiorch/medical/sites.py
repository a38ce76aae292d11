"""Body sites: HAM10000's localization vocabulary and common words for it in English, German,
French and Spanish, folded into the model's four site groups.

The shared contracts know the model's groups; the dataset's own wording ("lower extremity",
"acral") and many everyday synonyms were not read, so the patient's site stayed empty.
"""

import re

# HAM10000 site -> the model's group (sklesion's one-hot: arm, head-or-neck, leg-or-genital, trunk, unknown).
GROUPS = {
    "abdomen": "trunk", "back": "trunk", "chest": "trunk", "trunk": "trunk",
    "ear": "head-or-neck", "face": "head-or-neck", "neck": "head-or-neck", "scalp": "head-or-neck",
    "hand": "arm", "upper extremity": "arm",
    "foot": "leg-or-genital", "genital": "leg-or-genital", "lower extremity": "leg-or-genital",
    # Acral skin is palms and soles; HAM10000 has few such photos and sklesion's encoding has no group for it.
    "acral": "unknown",
    "unknown": "unknown",
}

# Single words per site (English | German | French | Spanish); phrases are in _PHRASES.
_WORDS = {
    "abdomen": "abdomen abdominal belly stomach tummy navel waist flank | bauch bauchnabel unterbauch "
               "| ventre nombril | vientre barriga ombligo",
    "acral": "acral palm sole plantar palmar | handfläche handflaeche fußsohle fusssohle | paume plante "
             "| palma planta",
    "back": "back | rücken ruecken | | espalda",
    "chest": "chest breast sternum thorax | brust brustkorb | poitrine | pecho tórax torax seno",
    "ear": "ear earlobe | ohr ohren ohrläppchen | oreille | oreja",
    "face": "face cheek forehead nose lip chin eyelid temple jaw | gesicht wange stirn nase lippe kinn augenlid "
            "schläfe | visage joue nez lèvre menton paupière tempe mâchoire "
            "| cara mejilla frente nariz labio mentón barbilla párpado sien mandíbula",
    "foot": "foot feet toe heel instep | fuß fuss füße zeh zehe zehen ferse | pied orteil talon | pie talón",
    "genital": "genital genitals genitalia groin penis scrotum vulva pubic | genitalien leiste intimbereich "
               "| génital génitaux aine pubis | genitales ingle",
    "hand": "hand finger thumb wrist knuckle fingernail | daumen handgelenk handrücken | doigt pouce poignet "
            "| mano dedo pulgar muñeca",
    "lower extremity": "leg thigh shin calf knee ankle buttock hip | bein beine oberschenkel unterschenkel "
                       "schienbein wade knie knöchel gesäß hüfte | jambe cuisse tibia mollet genou cheville fesse "
                       "hanche | pierna muslo espinilla pantorrilla rodilla tobillo glúteo nalga cadera",
    "neck": "neck nape throat | hals nacken | cou nuque gorge | cuello nuca garganta",
    "scalp": "scalp head | kopfhaut kopf | tête tete crâne | cabeza",
    "trunk": "trunk torso | rumpf oberkörper | tronc torse | tronco",
    "upper extremity": "arm forearm elbow shoulder armpit | arme unterarm oberarm ellbogen ellenbogen schulter achsel "
                       "| bras avant-bras coude épaule aisselle | brazo antebrazo codo hombro axila",
}
# Phrases, matched before single words: "planta del pie" is acral, not foot; and French words that are
# also English ("dos" is Spanish for two, "main" an English word) only count inside a French phrase.
_PHRASES = {
    "lower extremity": "lower extremity|lower limb|untere extremität|membre inférieur|membre inferieur"
                       "|extremidad inferior|miembro inferior",
    "upper extremity": "upper extremity|upper limb|upper arm|obere extremität|membre supérieur|membre superieur"
                       "|extremidad superior|miembro superior",
    "acral": "plante du pied|planta del pie|paume de la main|palma de la mano",
    "foot": "dedo del pie",
    "back": "upper back|lower back|le dos|du dos|au dos|mon dos|son dos",
    "scalp": "cuir chevelu|cuero cabelludo",
    "genital": "parties génitales|organes génitaux",
    "hand": "la main|une main|sa main|ma main|main droite|main gauche|dos de la main|le dos de la main"
            "|du dos de la main|dorso de la mano|el dorso de la mano",
}
_LOOKUP = {word: site for site, text in _WORDS.items() for word in text.replace("|", " ").split()}
_LOOKUP |= {phrase: site for site, text in _PHRASES.items() for phrase in text.split("|")}
# Longest first, so a phrase wins over a word inside it; a plural "s" is allowed.
_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(re.escape(key) for key in sorted(_LOOKUP, key=len, reverse=True))
                      + r")s?(?![\w-])")


def site_of(text: str) -> str | None:
    """The HAM10000 site first named in the text ("lesion on the lower extremity" -> "lower extremity")."""
    lowered = text.lower().replace("_", " ")
    if lowered.strip() in GROUPS:
        return lowered.strip()
    match = _PATTERN.search(lowered)
    return _LOOKUP[match.group(1)] if match else None


def group_of(text: str) -> str | None:
    """The model's group for a site named in the text, or for one of the group names themselves."""
    lowered = text.lower().strip()
    if lowered in GROUPS.values():
        return lowered
    site = site_of(text)
    return GROUPS[site] if site else None
