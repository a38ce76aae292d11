"""The skin-lesion agent's spec, published to the agent registry when the service starts."""

from aiorch.contracts import AgentSpec, ParameterSpec

_PHOTOS = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"]

SPEC = AgentSpec(
    name="medical",
    version="1.0.0",
    title="Skin-lesion photo classifier",
    description="Classifies photos of skin lesions (moles, spots) into 7 HAM10000 classes with a "
    "PyTorch model, with a Grad-CAM heatmap; optional age, sex and body site. Not a diagnosis.",
    accepts=_PHOTOS,
    kinds=dict.fromkeys(_PHOTOS, "photo"),
    material=["photo"],
    missing="attach a photo of the skin lesion (JPEG, PNG, WebP or HEIC) and send the request again.",
    consumes=[],
    produces=[],
    parameters=[
        ParameterSpec(name="age", type="number", description="Age in years.", from_request="patient.age"),
        ParameterSpec(name="sex", description="male, female or unknown.", from_request="patient.sex"),
        ParameterSpec(name="location", description="Body site: arm, head-or-neck, leg-or-genital, trunk.",
                      from_request="patient.location"),
    ],
    keywords={
        "en": ["skin", "lesion", "mole", "melanoma", "nevus", "naevus", "spot", "freckle", "dermat", "rash", "cancer",
               "birthmark", "wart", "carcinoma", "keratosis", "growth", "patch", "dermatolog"],
        "de": ["muttermal", "haut", "leberfleck", "läsion", "melanom"],
        "fr": ["grain", "peau"],
        "es": ["lunar", "piel"],
    },
    typo_words=["lesion", "mole", "dangerous", "melanoma", "classify", "birthmark"],
    examples={
        "en": [
            "is this mole dangerous",
            "classify this skin lesion",
            "could this spot be melanoma",
            "check this birthmark",
            "is the lesion benign or malignant",
            "skin cancer check of this photo",
            "what kind of skin growth is this",
            "look at this freckle that changed colour",
            "assess this nevus",
            "rate the risk of this dark patch on my skin",
        ],
        "de": ["ist dieses Muttermal gefährlich", "untersuche dieses Muttermal"],
        "fr": ["ce grain de beauté est-il dangereux"],
        "es": ["es peligroso este lunar"],
    },
)
