"""The fixed world of the model: actors, theatres, cooperation domains and discrete states."""

from enum import Enum, IntEnum


class Actor(str, Enum):
    """The six state actors."""

    US = "us"
    JAPAN = "japan"
    ROK = "rok"
    CHINA = "china"
    DPRK = "dprk"
    RUSSIA = "russia"


PARTNERS = (Actor.US, Actor.JAPAN, Actor.ROK)
ADVERSARIES = (Actor.CHINA, Actor.DPRK, Actor.RUSSIA)

# Pairwise ties among the partners and alignment among the adversaries, in a fixed order.
TIE_PAIRS = ((Actor.US, Actor.JAPAN), (Actor.US, Actor.ROK), (Actor.JAPAN, Actor.ROK))
ALIGNMENT_PAIRS = ((Actor.CHINA, Actor.RUSSIA), (Actor.RUSSIA, Actor.DPRK), (Actor.CHINA, Actor.DPRK))


def pair_name(pair):
    """`(Actor.US, Actor.JAPAN)` -> `"us_japan"`."""
    return f"{pair[0].value}_{pair[1].value}"


TIE_NAMES = tuple(pair_name(p) for p in TIE_PAIRS)
ALIGNMENT_NAMES = tuple(pair_name(p) for p in ALIGNMENT_PAIRS)


class Theatre(str, Enum):
    """Theatres in which crises can happen."""

    TAIWAN = "taiwan"
    KOREA = "korea"
    EAST_CHINA_SEA = "east_china_sea"
    SOUTH_CHINA_SEA = "south_china_sea"


THEATRES = tuple(Theatre)


class Domain(str, Enum):
    """The nine trilateral cooperation domains whose interoperability the model tracks."""

    MISSILE_DEFENCE = "missile_defence"
    ANTI_SUBMARINE_WARFARE = "anti_submarine_warfare"
    ISR = "isr"
    MINE_WARFARE = "mine_warfare"
    CYBER_EW = "cyber_ew"
    SPACE = "space"
    EVACUATION = "evacuation"
    SEARCH_AND_RESCUE = "search_and_rescue"
    LOGISTICS = "logistics"


DOMAINS = tuple(Domain)


class _Labelled(IntEnum):
    @property
    def label(self):
        """Lower-case name used in scenario files and stored results."""
        return self.name.lower()


class EscalationState(_Labelled):
    """Escalation state of a theatre, numbered by severity so conditions can compare them.

    De-escalation (the way down from a crisis or conflict) ranks between peacetime and grey zone,
    so `state >= grey_zone` is false while a theatre is winding down.
    """

    PEACETIME = 0
    DE_ESCALATION = 1
    GREY_ZONE = 2
    CRISIS = 3
    CONFLICT = 4


STATE_BY_LABEL = {s.label: s for s in EscalationState}


class ConflictOutcome(_Labelled):
    """Adjudicated outcome of a conflict in a theatre (0 = no conflict)."""

    NONE = 0
    DETERRENCE_RESTORED = 1
    STALEMATE = 2
    ADVERSARY_GAINS = 3
