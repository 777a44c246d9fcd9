"""The world's shape, declared once: actors and their roles, pairs, theatres, cooperation domains and discrete states.

The scenario schema, the model's loops, the recorded variables and the report's labels are derived
from these declarations; adding an actor is its entry here, its parameters in the baseline scenario
and its documentation.
"""

import functools
import itertools
from enum import Enum, IntEnum
from typing import NamedTuple, Optional


class Role(str, Enum):
    """What an actor is in the model: a partner of the trilateral, an adversary, or another actor."""

    PARTNER = "partner"      # holds ties and reliability views; its commitment makes the partnership
    ADVERSARY = "adversary"  # has resolve, drives theatres' escalation, aligns with other adversaries
    OTHER = "other"          # has a government and opinion; acts on the world through the theatres it is the subject of


class Actor(str, Enum):
    """The state actors (the world's shape is declared once, in ACTORS below)."""

    US = "us"
    JAPAN = "japan"
    ROK = "rok"
    CHINA = "china"
    DPRK = "dprk"
    RUSSIA = "russia"
    TAIWAN = "taiwan"


class ActorInfo(NamedTuple):
    """The declared shape of one actor."""

    role: Role
    label: str
    elects: bool  # holds elections that scenarios can schedule (democracies)


ACTORS = {
    Actor.US: ActorInfo(Role.PARTNER, "United States", elects=True),
    Actor.JAPAN: ActorInfo(Role.PARTNER, "Japan", elects=True),
    Actor.ROK: ActorInfo(Role.PARTNER, "Republic of Korea", elects=True),
    Actor.CHINA: ActorInfo(Role.ADVERSARY, "China", elects=False),
    Actor.DPRK: ActorInfo(Role.ADVERSARY, "DPRK", elects=False),
    Actor.RUSSIA: ActorInfo(Role.ADVERSARY, "Russia", elects=False),
    Actor.TAIWAN: ActorInfo(Role.OTHER, "Taiwan", elects=True),
}
"""Every actor's role, label and whether it holds elections: the one declaration the rest derives from."""

PARTNERS = tuple(a for a, info in ACTORS.items() if info.role is Role.PARTNER)
ADVERSARIES = tuple(a for a, info in ACTORS.items() if info.role is Role.ADVERSARY)
OTHERS = tuple(a for a, info in ACTORS.items() if info.role is Role.OTHER)
ELECTORAL = tuple(a for a, info in ACTORS.items() if info.elects)
ACTOR_ROWS = PARTNERS + ADVERSARIES + OTHERS  # the rows of arrays over actors: the actors of each role in one block
LEAD_PARTNER = Actor.US  # the partner whose forces the pool allocates and whose credibility the allies judge
ALLIES = tuple(a for a in PARTNERS if a is not LEAD_PARTNER)


def side(actor):
    """The side an actor stands on: partners and adversaries are sides; each other actor stands alone."""
    role = ACTORS[actor].role
    return actor.value if role is Role.OTHER else role.value


# Ties among the partners and alignment among the adversaries: every pair, in the order scenario files name them.
TIE_PAIRS = tuple(itertools.combinations(PARTNERS, 2))
ALIGNMENT_PAIRS = ((Actor.CHINA, Actor.RUSSIA), (Actor.RUSSIA, Actor.DPRK), (Actor.CHINA, Actor.DPRK))
HISTORY_PAIR = (Actor.JAPAN, Actor.ROK)  # the allies whose historical grievance the model tracks


@functools.cache  # pairs are few and named on every step
def pair_name(pair):
    """`(Actor.US, Actor.JAPAN)` -> `"us_japan"`."""
    return f"{pair[0].value}_{pair[1].value}"


def pair_label(pair):
    """`(Actor.US, Actor.JAPAN)` -> `"US-Japan"`: a pair as labels name it (short names in upper case)."""
    return "-".join(actor.value.upper() if len(actor.value) <= 4 else actor.value.capitalize() for actor in pair)


def election_title(actor):
    """A scheduled election named for what its date is, the day the winner takes office (a US election's date is the
    January inauguration, not the November vote): "United States election winner takes office"."""
    return f"{ACTORS[Actor(actor)].label} election winner takes office"


TIE_NAMES = tuple(pair_name(p) for p in TIE_PAIRS)
# Each partner's view of each other partner's reliability, as (viewer, viewed): first each ally's view of the lead
# partner, then the partners' views of each other (by viewer, then viewed, in the order of PARTNERS).
RELIABILITY_VIEWS = (tuple((ally, LEAD_PARTNER) for ally in ALLIES)
                     + tuple((a, b) for a in PARTNERS for b in PARTNERS if a is not b and b is not LEAD_PARTNER))
ALIGNMENT_NAMES = tuple(pair_name(p) for p in ALIGNMENT_PAIRS)
HISTORY_TIE = pair_name(HISTORY_PAIR)


class DisputeKind(NamedTuple):
    """A kind of dispute between partners, drawn each step or scripted: its name in scenarios and the event log, the run
    summary's count of it, how reports name one, and the parameters of its weekly hazard (at full pressure) and its
    severity when drawn."""

    name: str
    count: str
    label: str
    hazard: str
    severity: str


DISPUTE_KINDS = (  # the order of each step's dispute draws
    DisputeKind("japan_rok_history", "japan_rok_disputes", f"{pair_label(HISTORY_PAIR)} history dispute",
                "dispute_base_hazard", "dispute_severity"),
    DisputeKind("burden_sharing", "burden_sharing_disputes", "burden-sharing dispute", "burden_dispute_hazard",
                "burden_dispute_severity"),
)


class Theatre(str, Enum):
    """Theatres in which crises can happen (declared in THEATRE_INFO below)."""

    TAIWAN = "taiwan"
    KOREA = "korea"
    EAST_CHINA_SEA = "east_china_sea"
    SOUTH_CHINA_SEA = "south_china_sea"


class TheatreInfo(NamedTuple):
    """The declared shape of one theatre."""

    label: str
    subject: Optional[Actor]  # the actor whose own politics provoke or reassure the theatre's adversary, if any


THEATRE_INFO = {
    Theatre.TAIWAN: TheatreInfo("Taiwan Strait", subject=Actor.TAIWAN),
    Theatre.KOREA: TheatreInfo("Korean Peninsula", subject=None),
    Theatre.EAST_CHINA_SEA: TheatreInfo("East China Sea", subject=None),
    Theatre.SOUTH_CHINA_SEA: TheatreInfo("South China Sea", subject=None),
}

THEATRES = tuple(Theatre)
THEATRE_LABELS = {t.value: info.label for t, info in THEATRE_INFO.items()}
# The two flashpoints that headline tables and charts show: where a crisis can draw in the US and both allies at once
FLASHPOINTS = (Theatre.TAIWAN, Theatre.KOREA)


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


def crisis_begins(previous, now):
    """Where a theatre's state (numbers, elementwise) rises to crisis or above from peacetime or the grey zone: a new
    crisis. A rise from de-escalation is a relapse of the crisis that is winding down, not a new one (International
    Crisis Behavior counts a crisis once, from its trigger to its termination)."""
    rising = (now >= EscalationState.CRISIS) & (previous < EscalationState.CRISIS)
    return rising & (previous != EscalationState.DE_ESCALATION)


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
    """The built-in bodies and agreements: names every scenario may declare (with their attributes, under `bodies:`),
    whose status the time series record. A scenario may declare further bodies of its own."""

    SUMMIT_PROCESS = "summit_process"
    MISSILE_WARNING_SHARING = "missile_warning_sharing"
    SECRETARIAT = "secretariat"
    TRILATERAL_NCG = "trilateral_ncg"
    US_ROK_NCG = "us_rok_ncg"
    JAPAN_ROK_GSOMIA = "japan_rok_gsomia"


INSTITUTIONS = tuple(Institution)


class Rank(str, Enum):
    """The level at which a body meets, from the lowest."""

    WORKING = "working"
    OFFICIALS = "officials"
    MINISTERS = "ministers"
    LEADERS = "leaders"


RANKS = tuple(Rank)
"""The ranks from the lowest (working level) to the highest (leaders)."""


class BodyRole(str, Enum):
    """What a body or agreement does beyond meeting (docs/ODD.md 7.10)."""

    NONE = "none"
    NUCLEAR_CONSULTATION = "nuclear_consultation"    # assures the members other than the lead partner (an NCG)
    WARNING_SHARING = "warning_sharing"              # real-time missile-warning data: tempo in missile defence and ISR
    INTELLIGENCE_SHARING = "intelligence_sharing"    # an intelligence-sharing agreement: supports its members' ties


class InstitutionStatus(_Labelled):
    """Status of a body or agreement; `noticed` and `active` ones operate, the others do not.

    `suspended` has the number of the partnership's `suspended` state, so that one flat set of
    condition constants serves both; compare statuses with `==`, or `>= noticed` for "operates".
    An agreement goes proposed -> signed -> active (in force); any body may be noticed, suspended,
    restored, ended (a political break) or lapse (stop meeting, no political charge).
    """

    ABSENT = 0
    SUSPENDED = 1
    ENDED = 2
    LAPSED = 3
    PROPOSED = 4
    SIGNED = 5
    NOTICED = 6
    ACTIVE = 7

    @property
    def operating(self):
        """Whether the body or agreement has its effects in this status."""
        return self >= InstitutionStatus.NOTICED


INSTITUTION_STATUS_BY_LABEL = {s.label: s for s in InstitutionStatus}

# What an event may do to a body or agreement, and the status each action leads to. `fail_signing` (a signing pulled
# or postponed at the last moment) leaves an agreement proposed and costs the parties' tie.
INSTITUTION_ACTIONS = {
    "create": InstitutionStatus.ACTIVE,
    "propose": InstitutionStatus.PROPOSED,
    "sign": InstitutionStatus.SIGNED,
    "enter_into_force": InstitutionStatus.ACTIVE,
    "fail_signing": InstitutionStatus.PROPOSED,
    "notice": InstitutionStatus.NOTICED,
    "suspend": InstitutionStatus.SUSPENDED,
    "restore": InstitutionStatus.ACTIVE,
    "lapse": InstitutionStatus.LAPSED,
    "end": InstitutionStatus.ENDED,
}
