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


class PartnershipState(_Labelled):
    """Observable state of the US-Japan-ROK partnership, numbered by health so conditions can compare them.

    The meaning a journalist would report for each state is in docs/ODD.md section 2.
    """

    RUPTURED = 0
    SUSPENDED = 1
    STRAINED = 2
    FUNCTIONING = 3
    INSTITUTIONALISED = 4


PARTNERSHIP_BY_LABEL = {s.label: s for s in PartnershipState}


class Institution(str, Enum):
    """Named institutions that events can create, notice for termination, suspend, restore and end."""

    SUMMIT_PROCESS = "summit_process"                  # trilateral: annual leaders' summits and ministerials
    MISSILE_WARNING_SHARING = "missile_warning_sharing"  # trilateral: real-time DPRK missile-warning data
    SECRETARIAT = "secretariat"                        # trilateral: standing secretariat (Seoul, 2024)
    TRILATERAL_NCG = "trilateral_ncg"                  # trilateral nuclear consultative group
    US_ROK_NCG = "us_rok_ncg"                          # bilateral US-ROK Nuclear Consultative Group (2023)
    JAPAN_ROK_GSOMIA = "japan_rok_gsomia"              # bilateral Japan-ROK intelligence-sharing agreement


INSTITUTIONS = tuple(Institution)


class InstitutionStatus(_Labelled):
    """Status of a named institution; `noticed` and `active` institutions operate, the others do not.

    `suspended` has the number of the partnership's `suspended` state, so that one flat set of
    condition constants serves both; compare institution statuses with `==`.
    """

    ABSENT = 0
    SUSPENDED = 1
    ENDED = 2
    NOTICED = 3
    ACTIVE = 4

    @property
    def operating(self):
        """Whether the institution has its effects in this status."""
        return self >= InstitutionStatus.NOTICED


INSTITUTION_STATUS_BY_LABEL = {s.label: s for s in InstitutionStatus}

# What an event may do to a named institution, and the status each action leads to.
INSTITUTION_ACTIONS = {
    "create": InstitutionStatus.ACTIVE,
    "notice": InstitutionStatus.NOTICED,
    "suspend": InstitutionStatus.SUSPENDED,
    "restore": InstitutionStatus.ACTIVE,
    "end": InstitutionStatus.ENDED,
}
