"""The graph of resolved persons and events, built as named SQL steps.

Each step writes a temporary table, there to inspect between steps (the stage drops them at
the end):

- ``cb_network_event``: the events in scope (child sexual abuse, see :func:`select_events`);
- ``cb_network_tie``: person × event with the side the person is on (``suspect`` or ``victim``);
- ``cb_network_against`` and ``cb_network_shared``: suspect–victim pairs per event, and pairs
  of suspects of different events against the same victim;
- ``cb_network_evidence``: one row per tie between two persons and one event behind it;
- ``cb_network_suspect`` and ``cb_network_link``: the suspects and the suspect–suspect ties that
  make groups, clustered into ``cb_network_component`` by Splink's connected components;
- ``cb_network_candidate``: every component with enough suspects, its id and its members.

The SQL keeps to forms that mean the same on DuckDB and Spark (``../../docs/networks.md``).
"""

from __future__ import annotations

from splink.clustering import cluster_pairwise_predictions_at_threshold

from casebridge.engine import Engine
from casebridge.link.judgements import latest_judgements_sql
from casebridge.standard.sql import calendar_age
from casebridge.standard.vocabulary import duty_report_sql, kind_in_sql
from casebridge.workspace import NetworkSettings, VocabularySettings

# victim_age_band values of the offence code list that make an offence one against a child
CHILD_AGE_BANDS = ("under13", "under16", "under18")
CHILD_AGE = 18  # a child is anyone under 18 (Children Act 1989, s105)


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


def select_events(
    engine: Engine, settings: NetworkSettings, vocabulary: VocabularySettings
) -> None:
    """``cb_network_event``: child sexual offences and every event of a kind that concerns
    child sexual abuse by definition, each with ``is_certain``: duty reports (a kind among
    ``vocabulary.duty_report_kinds``, or any event of a duty-report source), CSE assessments
    (``vocabulary.assessment_kinds``) and ``settings.event_kinds``.

    A sexual offence is certainly against a child when its offence code says so or a
    victim-side person was under 18 at it (the age recorded at the event, else the linked
    person's age then). One whose victim's age is unknown is kept but uncertain: a missing
    birth date must not hide a child, nor make two men in an adult case a group (see
    :func:`select_ties`).
    """
    duty, duty_kinds = duty_report_sql("e.kind", "s.kind", vocabulary.duty_report_kinds)
    other, other_kinds = kind_in_sql(
        "e.kind", (*vocabulary.assessment_kinds, *settings.event_kinds)
    )
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_network_event AS
        WITH victim_age AS (
            SELECT i.event_id, coalesce(i.age_at_event, {
            calendar_age("p.date_of_birth", "e.event_date")
        }) AS age
            FROM involvement i
            JOIN event e ON e.event_id = i.event_id
            LEFT JOIN person_link l ON l.record_id = i.record_id
            LEFT JOIN person p ON p.person_id = l.person_id
            WHERE e.is_sexual AND i.role IN ({_marks(settings.victim_roles)})),
        judged AS (
            SELECT e.event_id, e.source, e.event_date, e.outcome_category, e.cse_flag,
                {duty} OR {other}
                OR (e.is_sexual AND (e.victim_age_band IN ({_marks(CHILD_AGE_BANDS)})
                    OR e.event_id IN (SELECT event_id FROM victim_age
                                      WHERE age < {CHILD_AGE}))) AS is_certain,
                e.is_sexual AND e.event_id IN (SELECT event_id FROM victim_age
                                               WHERE age IS NULL) AS is_possible
            FROM event e
            LEFT JOIN (SELECT source, max(kind) AS kind FROM source GROUP BY source) s
                ON s.source = e.source)
        SELECT event_id, source, event_date, outcome_category, cse_flag,
            coalesce(is_certain, FALSE) AS is_certain
        FROM judged WHERE is_certain OR is_possible""",
        [*settings.victim_roles, *duty_kinds, *other_kinds, *CHILD_AGE_BANDS],
    )


def select_ties(engine: Engine, settings: NetworkSettings) -> None:
    """``cb_network_tie``: each resolved person in each event in scope, on the suspect or the
    victim side; other roles (witness, reporter) tie nobody. An uncertain event (victim's age
    unknown) ties its people only when one of them is tied in a certain event too."""
    suspect, victim = settings.suspect_roles, settings.victim_roles
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_network_tie AS
        WITH tie AS (
            SELECT DISTINCT l.person_id, e.event_id, e.source, e.event_date, e.is_certain,
                CASE WHEN i.role IN ({_marks(suspect)}) THEN 'suspect' ELSE 'victim' END AS side
            FROM involvement i
            JOIN cb_network_event e ON e.event_id = i.event_id
            JOIN person_link l ON l.record_id = i.record_id
            WHERE i.role IN ({_marks(suspect + victim)})),
        anchored AS (
            SELECT DISTINCT u.event_id FROM tie u
            JOIN tie c ON c.person_id = u.person_id AND c.is_certain
            WHERE NOT u.is_certain)
        SELECT person_id, event_id, source, event_date, side FROM tie
        WHERE is_certain OR event_id IN (SELECT event_id FROM anchored)""",
        [*suspect, *suspect, *victim],
    )


def select_evidence(engine: Engine, settings: NetworkSettings) -> None:
    """``cb_network_evidence`` (person_a, person_b, kind, event_id, source): one row per tie
    and event behind it. person_a is always a suspect; for a shared victim both events (one
    per suspect) are evidence, and with a window their dates must lie within it."""
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE cb_network_against AS
        SELECT s.person_id AS suspect, v.person_id AS victim, s.event_id, s.source, s.event_date
        FROM cb_network_tie s JOIN cb_network_tie v ON v.event_id = s.event_id
        WHERE s.side = 'suspect' AND v.side = 'victim' AND s.person_id <> v.person_id"""
    )
    # an unknown date cannot rule a tie out, so it counts
    window = (
        ""
        if settings.window_days is None
        else "AND (a.event_date IS NULL OR b.event_date IS NULL OR "
        f"abs(date_diff('day', a.event_date, b.event_date)) <= {int(settings.window_days)})"
    )
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_network_shared AS
        SELECT a.suspect AS person_a, b.suspect AS person_b, a.event_id AS event_a,
            a.source AS source_a, b.event_id AS event_b, b.source AS source_b
        FROM cb_network_against a JOIN cb_network_against b ON b.victim = a.victim
        WHERE a.suspect < b.suspect AND a.event_id <> b.event_id {window}"""
    )
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE cb_network_evidence AS
        SELECT suspect AS person_a, victim AS person_b, 'suspect_victim' AS kind, event_id, source
        FROM cb_network_against
        UNION ALL
        SELECT a.person_id, b.person_id, 'co_suspect', a.event_id, a.source
        FROM cb_network_tie a JOIN cb_network_tie b ON b.event_id = a.event_id
        WHERE a.side = 'suspect' AND b.side = 'suspect' AND a.person_id < b.person_id
        UNION ALL
        SELECT person_a, person_b, 'shared_victim', event_a, source_a FROM cb_network_shared
        UNION ALL
        SELECT person_a, person_b, 'shared_victim', event_b, source_b FROM cb_network_shared"""
    )


def cluster_suspects(engine: Engine) -> None:
    """``cb_network_component`` (person_id, cluster_id): suspects joined by co-suspicion, a
    shared victim (within the window), or one suspect being the other's victim."""
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE cb_network_suspect AS "
        "SELECT DISTINCT person_id FROM cb_network_tie WHERE side = 'suspect'"
    )
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE cb_network_link AS
        SELECT DISTINCT e.person_a AS person_id_l, e.person_b AS person_id_r
        FROM cb_network_evidence e
        LEFT JOIN cb_network_suspect s ON s.person_id = e.person_b
        WHERE e.kind <> 'suspect_victim' OR s.person_id IS NOT NULL"""
    )
    if not engine.scalar("SELECT count(*) FROM cb_network_suspect"):
        engine.execute(
            "CREATE OR REPLACE TEMP TABLE cb_network_component AS "
            "SELECT person_id, person_id AS cluster_id FROM cb_network_suspect"
        )
        return
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes="cb_network_suspect", edges="cb_network_link", node_id_column_name="person_id",
        db_api=engine.splink_api(),
    )  # fmt: skip
    try:
        engine.execute(
            "CREATE OR REPLACE TEMP TABLE cb_network_component AS "
            f'SELECT person_id, cluster_id FROM "{clusters.physical_name}"'
        )
    finally:
        clusters.drop_table_from_database_and_remove_from_cache()


def select_candidates(engine: Engine, settings: NetworkSettings) -> None:
    """``cb_network_candidate`` (network_id, person_id, role): each component with at least
    ``min_suspects`` suspects, named 'N-' and its smallest suspect person id, with its suspects
    and every victim of them who is not a suspect too."""
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_network_named AS
        SELECT cluster_id, 'N-' || min(person_id) AS network_id
        FROM cb_network_component GROUP BY cluster_id
        HAVING count(*) >= {int(settings.min_suspects)}"""
    )
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE cb_network_candidate AS
        SELECT n.network_id, c.person_id, 'suspect' AS role
        FROM cb_network_component c JOIN cb_network_named n ON n.cluster_id = c.cluster_id
        UNION
        SELECT n.network_id, a.victim, 'victim'
        FROM cb_network_against a
        JOIN cb_network_component c ON c.person_id = a.suspect
        JOIN cb_network_named n ON n.cluster_id = c.cluster_id
        LEFT JOIN cb_network_suspect s ON s.person_id = a.victim
        WHERE s.person_id IS NULL"""
    )


def candidate_edges_sql() -> str:
    """network_edge's rows for every candidate network: each tie with its evidence events and
    sources, in the network of its suspect (person_a)."""
    return """SELECT m.network_id, e.person_a, e.person_b, e.kind,
            list_sort(list(DISTINCT e.event_id)) AS events,
            list_sort(list(DISTINCT e.source)) AS sources
        FROM cb_network_evidence e
        JOIN cb_network_candidate m ON m.person_id = e.person_a AND m.role = 'suspect'
        GROUP BY m.network_id, e.person_a, e.person_b, e.kind"""


def maybe_same_suspects_sql(floor: float, has_match_pair: bool) -> str:
    """Pairs of suspects of one candidate network that the linkage scored as possibly one
    person (some pair of their records at or above ``floor``) and no analyst judged different.
    """
    if not has_match_pair:
        return (
            "SELECT network_id, person_id AS person_a, person_id AS person_b "
            "FROM cb_network_candidate WHERE 1 = 0"
        )
    judged = latest_judgements_sql()
    return f"""WITH apart AS (
            SELECT DISTINCT least(x.person_id, y.person_id) AS person_a,
                greatest(x.person_id, y.person_id) AS person_b
            FROM ({judged}) j
            JOIN person_link x ON x.record_id = j.record_l
            JOIN person_link y ON y.record_id = j.record_r
            WHERE j.verdict = 'different'),
        scored AS (
            SELECT DISTINCT a.network_id, least(x.person_id, y.person_id) AS person_a,
                greatest(x.person_id, y.person_id) AS person_b
            FROM match_pair m
            JOIN person_link x ON x.record_id = m.record_l
            JOIN person_link y ON y.record_id = m.record_r
            JOIN cb_network_candidate a ON a.person_id = x.person_id AND a.role = 'suspect'
            JOIN cb_network_candidate b ON b.person_id = y.person_id AND b.role = 'suspect'
                AND b.network_id = a.network_id
            WHERE m.match_probability >= {float(floor)} AND x.person_id <> y.person_id)
        SELECT s.network_id, s.person_a, s.person_b
        FROM scored s
        LEFT JOIN apart d ON d.person_a = s.person_a AND d.person_b = s.person_b
        WHERE d.person_a IS NULL"""
