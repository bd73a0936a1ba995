"""From staging rows to the standard: person_record, event, involvement and finding.

Set-based SQL only. Each standard value keeps its raw value; a bad value is set aside (NULL in
the standard field) with one ``finding`` row, and never stops its row loading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from casebridge.ingest.mapping import EventBlock, FieldSpec, Mapping, PersonBlock
from casebridge.ingest.stage import EVENT_FIELDS, PERSON_FIELDS, describe
from casebridge.standard import sql

DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%d %B %Y", "%Y-%m-%dT%H:%M:%S", "%Y"]


def _formats(spec: FieldSpec | None) -> list[str]:
    return list(spec.formats) if spec and spec.formats else DEFAULT_DATE_FORMATS


def _code_system(spec: FieldSpec | None, default: str) -> str:
    return spec.codes if spec is not None and spec.codes else default


def _block_case(blocks: list[PersonBlock], build: Callable[[PersonBlock], str]) -> str:
    """The expression per block, as a CASE where blocks read the same field differently."""
    built = [build(block) for block in blocks]
    if len(set(built)) == 1:
        return built[0]
    branches = [f"WHEN block = {n} THEN {sql}" for n, sql in enumerate(built, 1)]
    return f"CASE {' '.join(branches)} END"


def _with_parts(source: str, parts: dict[str, str], where: str = "") -> str:
    columns = ", ".join(f"{expression} AS {name}" for name, expression in parts.items())
    return f"(SELECT *, {columns} FROM {source} AS src{where})"


def _names(blocks: list[PersonBlock]) -> tuple[str, str]:
    def surname(block: PersonBlock) -> str:
        if block.full_name is not None and block.surname is None:
            return sql.surname_of("full_name_value", block.full_name.order or "forenames_first")
        return "surname_value"

    def forenames(block: PersonBlock) -> str:
        if block.full_name is not None and block.forenames is None:
            return sql.forenames_of("full_name_value", block.full_name.order or "forenames_first")
        return "forenames_value"

    return _block_case(blocks, surname), _block_case(blocks, forenames)


ETHNICITY_JOINS = """
        LEFT JOIN std_ethnicity ep ON ep.code = p.ethnicity_self_prefix
        LEFT JOIN std_dfe_ethnicity edp ON edp.code = p.ethnicity_self_prefix
        LEFT JOIN std_ethnicity_text et ON et.phrase = p.ethnicity_self_key"""
# std_ethnicity_text is keyed by sql.label_key (codelists); the phrases that say a value was not
# stated (NS) are read alike in any field
NOT_STATED_KEYS = "(SELECT phrase FROM std_ethnicity_text WHERE code_18plus1 = 'NS')"


def _ethnicity_self(codes: str) -> tuple[str, str]:
    """(code, problem) for self-defined ethnicity in one code system; joins: ETHNICITY_JOINS.

    A value that starts with a code of the system (``W1 White - British``, ``(A2) Pakistani``,
    ``WBRI White British``) is read by that code. Free text is read, after its code if any, by
    its label key against the phrase lists (census, DfE, not-stated words, shorthand). What
    cannot be read, or a code whose words name another category, is NULL with a problem,
    never 'not stated'; its raw value is kept.
    """
    value = "p.ethnicity_self_value"
    prefixed = {"dfe": "edp.code_18plus1", "18plus1": "ep.code"}.get(
        codes, "coalesce(ep.code, edp.code_18plus1)"
    )
    # a code whose words name another category ('A3 - Pakistani': A3 is Bangladeshi) is read
    # as neither: which of the two the recorder meant cannot be known
    disagree = (
        f"({prefixed}) IS NOT NULL AND et.code_18plus1 IS NOT NULL "
        f"AND ({prefixed}) <> et.code_18plus1"
    )
    read = prefixed if codes in ("dfe", "18plus1") else f"coalesce({prefixed}, et.code_18plus1)"
    code = f"CASE WHEN {disagree} THEN NULL ELSE {read} END"
    unread = "unknown_code" if codes in ("dfe", "18plus1") else "unmapped_text"
    problem = (
        f"CASE WHEN {disagree} THEN 'code_and_label_disagree' "
        f"WHEN {value} IS NOT NULL AND ({read}) IS NULL THEN '{unread}' END"
    )
    return code, problem


def _nationality_problem(codes: str) -> str:
    """Why a nationality was set aside: an unknown code (``iso3``), or words (``words``) that
    name no one country and do not say 'not stated'."""
    unread = "p.nationality_value IS NOT NULL AND nw.iso3 IS NULL"
    if codes == "iso3":
        return f"CASE WHEN {unread} THEN 'unknown_code' END"
    stated = f"coalesce({sql.label_key('p.nationality_value')} NOT IN {NOT_STATED_KEYS}, true)"
    return f"CASE WHEN {unread} AND {stated} THEN 'unmapped_text' END"


def _per_block(blocks: list[PersonBlock], field: str, build: Callable[[PersonBlock], str]) -> str:
    """One expression per block that maps ``field`` (NULL for blocks that do not)."""
    mapped = [(n, b) for n, b in enumerate(blocks, 1) if getattr(b, field) is not None]
    if not mapped:
        return "CAST(NULL AS VARCHAR)"
    built = [(n, build(block)) for n, block in mapped]
    if len(mapped) == len(blocks) and len({sql for _, sql in built}) == 1:
        return built[0][1]
    return "CASE " + " ".join(f"WHEN block = {n} THEN {sql}" for n, sql in built) + " END"


def _birth_dates(blocks: list[PersonBlock]) -> tuple[dict[str, str], str, str, str]:
    """(parts, date, precision, problem): each block's birth dates read by its own formats; a
    birth date after today is impossible and set aside."""
    parses = {
        n: sql.parse_date("date_of_birth_value", _formats(block.date_of_birth), f"dob{n}")
        for n, block in enumerate(blocks, 1)
        if block.date_of_birth is not None
    }
    parts: dict[str, str] = {}
    for parse in parses.values():
        parts |= parse.parts

    def pick(attribute: str) -> str:
        if not parses:
            return "CAST(NULL AS DATE)" if attribute == "date" else "CAST(NULL AS VARCHAR)"
        cases = " ".join(
            f"WHEN block = {n} THEN {getattr(p, attribute)}" for n, p in parses.items()
        )
        return f"CASE {cases} END"

    parsed = pick("date")
    future = f"({parsed}) > current_date"
    date = f"CASE WHEN {future} THEN NULL ELSE {parsed} END"
    precision = f"CASE WHEN {future} THEN NULL ELSE {pick('precision')} END"
    problem = f"CASE WHEN {future} THEN 'impossible_date' ELSE {pick('problem')} END"
    return parts, date, precision, problem


def person_std_sql(
    mapping: Mapping, rows: str, table: str, file_name: str, file_index: int = 0
) -> str:
    """SQL creating ``table``: every staged person with standard values and their problems."""
    blocks = mapping.persons
    surname_text, forenames_text = _names(blocks)
    dob_parts, dob, dob_precision, dob_problem = _birth_dates(blocks)
    postcode_parts, postcode, postcode_precision = sql.postcode_layers("postcode_value", "pc")
    eth_code = _per_block(
        blocks,
        "ethnicity_self",
        lambda b: _ethnicity_self(_code_system(b.ethnicity_self, "text"))[0],
    )
    eth_problem = _per_block(
        blocks,
        "ethnicity_self",
        lambda b: _ethnicity_self(_code_system(b.ethnicity_self, "text"))[1],
    )
    nationality_problem = _per_block(
        blocks,
        "nationality",
        lambda b: _nationality_problem(_code_system(b.nationality, "words")),
    )
    # the phrase key drops a code-like first word: the code, if it is one, decides first
    keys = {
        "ethnicity_self_prefix": sql.label_code_prefix("ethnicity_self_value"),
        "ethnicity_self_key": sql.label_without_code(sql.label_key("ethnicity_self_value")),
        "ethnicity_officer_prefix": sql.label_code_prefix("ethnicity_officer_value"),
    }
    inner = f"""
        SELECT *, {sql.clean_name(surname_text)} AS surname_clean,
            {sql.clean_name(forenames_text)} AS forenames_clean,
            {dob} AS dob, {dob_precision} AS dob_precision, {dob_problem} AS dob_problem
        FROM {_with_parts(rows, dob_parts | postcode_parts | keys, " WHERE present")}"""
    age_ok = "regexp_matches(trim(p.approx_age_value), '^[0-9]{1,3}$')"
    # a UK postcode is read as one unless the row names another country; anything else is kept
    # as the record's postal code, upper case and single-spaced
    uk = "(p.country_value IS NULL OR cw.iso3 = 'GBR')"
    postal_code = "upper(regexp_replace(trim(p.postcode_value), '[ ]+', ' ', 'g'))"
    return f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT {sql.text(file_name)} AS file_name, {file_index} AS file_index, p.*,
            rw.role AS role,
            {_unknown("p.role_value", "rw.role")} AS role_problem,
            {sql.first_word("p.forenames_clean")} AS forename,
            {sql.other_words("p.forenames_clean")} AS middle_names,
            p.surname_clean AS surname,
            CASE WHEN p.approx_age_value IS NOT NULL AND {age_ok}
                THEN CAST(trim(p.approx_age_value) AS INTEGER) END AS approx_age,
            CASE WHEN p.approx_age_value IS NOT NULL AND NOT {age_ok}
                THEN 'not_a_number' END AS approx_age_problem,
            sw.sex AS sex, {_unknown("p.sex_value", "sw.sex")} AS sex_problem,
            {eth_code} AS ethnicity_self, {eth_problem} AS ethnicity_self_problem,
            coalesce(ic.code, icp.code) AS ethnicity_officer,
            CASE WHEN p.ethnicity_officer_value IS NOT NULL AND coalesce(ic.code, icp.code) IS NULL
                THEN 'unknown_code' END AS ethnicity_officer_problem,
            nw.iso3 AS nationality, {nationality_problem} AS nationality_problem,
            CASE WHEN {uk} THEN {postcode} END AS postcode,
            CASE WHEN {uk} THEN {postcode_precision} END AS postcode_precision,
            CASE WHEN p.postcode_value IS NOT NULL AND NOT ({uk} AND ({postcode}) IS NOT NULL)
                THEN {postal_code} END AS postal_code,
            CASE WHEN p.postcode_value IS NOT NULL AND {uk} AND ({postcode}) IS NULL
                THEN 'malformed_postcode' END AS postcode_problem,
            nullif(trim(p.town_value), '') AS town,
            cw.iso3 AS country,
            CASE WHEN p.country_value IS NOT NULL AND cw.iso3 IS NULL
                THEN 'unknown_code' END AS country_problem,
            {sql.phone_of("p.phone_value")} AS phone,
            CASE WHEN p.phone_value IS NOT NULL AND ({sql.phone_of("p.phone_value")}) IS NULL
                THEN 'not_a_uk_phone' END AS phone_problem,
            lower(trim(p.email_value)) AS email
        FROM ({inner}) p
        {ETHNICITY_JOINS}
        LEFT JOIN std_ic_code ic
            ON ic.code = upper(replace(trim(p.ethnicity_officer_value), ' ', ''))
        LEFT JOIN std_ic_code icp
            ON icp.code = p.ethnicity_officer_prefix
        LEFT JOIN std_nationality_word nw ON nw.word = {sql.words_key("p.nationality_value")}
        LEFT JOIN std_nationality_word cw ON cw.word = {sql.words_key("p.country_value")}
        LEFT JOIN std_role_word rw ON rw.word = {sql.words_key("p.role_value")}
        LEFT JOIN std_sex_word sw ON sw.word = {sql.words_key("p.sex_value")}
    """


def _unknown(value: str, looked_up: str) -> str:
    """'unknown_code' where a value was given but its code list does not know it."""
    return f"CASE WHEN {value} IS NOT NULL AND {looked_up} IS NULL THEN 'unknown_code' END"


def _not_yes_or_no(value: str) -> str:
    """'not_yes_or_no' where a flag was given in words that are neither."""
    return (
        f"CASE WHEN {value} IS NOT NULL AND ({sql.flag_of(value)}) IS NULL THEN 'not_yes_or_no' END"
    )


PERSON_PROBLEMS = {
    "role": "role_problem",
    "sex": "sex_problem",
    "phone": "phone_problem",
    "approx_age": "approx_age_problem",
    "date_of_birth": "dob_problem",
    "ethnicity_self": "ethnicity_self_problem",
    "ethnicity_officer": "ethnicity_officer_problem",
    "nationality": "nationality_problem",
    "postcode": "postcode_problem",
    "country": "country_problem",
}


def person_findings_sql(mapping: Mapping, source: str, people: str) -> str:
    """SQL inserting a finding for every person value set aside."""
    selects = _unmatched_patterns(mapping.persons, PERSON_FIELDS, source, people)
    for field, problem in PERSON_PROBLEMS.items():
        columns = {describe(getattr(block, field)) for block in mapping.persons} - {""}
        selects.append(
            f"SELECT {sql.text(source)}, file_name, row_number, local_id, "
            f"'{field}', {sql.text('/'.join(sorted(columns)))}, {field}_raw, {problem} "
            f"FROM {people} WHERE {problem} IS NOT NULL"
        )
    return "INSERT INTO finding " + " UNION ALL ".join(selects)


def _unmatched_patterns(
    blocks: Sequence[PersonBlock | EventBlock], fields: tuple[str, ...], source: str, rows: str
) -> list[str]:
    """Selects of a finding (``pattern_not_matched``) for every value a mapping's ``pattern``
    found nothing in: the raw value is there, the field is left empty."""
    selects = []
    for field in fields:
        numbers = [n for n, b in enumerate(blocks, 1) if _has_pattern(getattr(b, field))]
        if not numbers:
            continue
        described = {describe(getattr(blocks[n - 1], field)) for n in numbers}
        in_block = f"block IN ({', '.join(map(str, numbers))}) AND " if len(blocks) > 1 else ""
        selects.append(
            f"SELECT {sql.text(source)}, file_name, row_number, local_id, '{field}', "
            f"{sql.text('/'.join(sorted(described)))}, {field}_raw, 'pattern_not_matched' "
            f"FROM {rows} WHERE {in_block}{field}_raw IS NOT NULL AND {field}_value IS NULL"
        )
    return selects


def _has_pattern(spec: FieldSpec | None) -> bool:
    return spec is not None and spec.pattern is not None


# rows in file order: the files of a source in the order its path lists them, then row order
ROW_ORDER = "file_index * 10000000000 + row_number"


def _first(column: str, rows: str = "") -> str:
    """The column's first known value in file order (of the rows ``rows.``, if given)."""
    order = ROW_ORDER.replace("file_index", f"{rows}file_index").replace(
        "row_number", f"{rows}row_number"
    )
    return f"arg_min({rows}{column}, {order}) FILTER (WHERE {rows}{column} IS NOT NULL)"


def person_record_sql(source: str, people: str) -> str:
    """SQL inserting one person_record per local id: each field's first known value (in row
    order), with every name, day-precision birth date and unit postcode its rows hold."""
    firsts = {
        "full_name_raw": "full_name_raw",
        "forenames_raw": "forenames_raw",
        "surname_raw": "surname_raw",
        "forename": "forename",
        "middle_names": "middle_names",
        "surname": "surname",
        "date_of_birth": "dob",
        "dob_precision": "dob_precision",
        "dob_raw": "date_of_birth_raw",
        "approx_age": "approx_age",
        "sex": "sex",
        "sex_raw": "sex_raw",
        "ethnicity_self": "ethnicity_self",
        "ethnicity_self_raw": "ethnicity_self_raw",
        "ethnicity_officer": "ethnicity_officer",
        "ethnicity_officer_raw": "ethnicity_officer_raw",
        "nationality": "nationality",
        "nationality_raw": "nationality_raw",
        "postcode": "postcode",
        "postcode_precision": "postcode_precision",
        "postcode_raw": "postcode_raw",
        "address": "address_raw",
        "phone": "phone",
        "phone_raw": "phone_raw",
        "email": "email",
        "postal_code": "postal_code",
        "town": "town",
        "country": "country",
        "country_raw": "country_raw",
    }
    aggregated = ", ".join(f"{_first(column)} AS {name}" for name, column in firsts.items())
    names = "list(DISTINCT concat_ws(' ', forename, surname)) FILTER (WHERE surname IS NOT NULL)"
    record = f"""
        SELECT local_id, arg_min(row_number, {ROW_ORDER}) AS first_row, {aggregated},
            {names} AS names_seen,
            list_sort(list(DISTINCT dob) FILTER (WHERE dob_precision = 'day')) AS dates_of_birth,
            list_sort(list(DISTINCT postcode) FILTER (WHERE postcode_precision = 'unit'))
                AS postcodes,
            flatten(list(list_transform(string_split(aliases_value, ';'),
                lambda a: {sql.clean_name("a")}) ORDER BY row_number)
                FILTER (WHERE aliases_value IS NOT NULL)) AS alias_list
        FROM {people}
        GROUP BY local_id"""
    return f"""
        INSERT INTO person_record
        SELECT {sql.text(source)} || ':' || g.local_id, {sql.text(source)}, g.local_id, g.first_row,
            g.full_name_raw, g.forenames_raw, g.surname_raw, g.forename, g.middle_names, g.surname,
            list_distinct(list_concat(coalesce(g.alias_list, []),
                list_filter(g.names_seen, lambda n: n <> concat_ws(' ', g.forename, g.surname)))),
            {sql.phonetic_key("g.forename")}, {sql.phonetic_key("g.surname")},
            {sql.skeleton_key("coalesce(vf.canonical, nf.formal, g.forename)")},
            {sql.skeleton_key("coalesce(vs.canonical, " + sql.squash("g.surname") + ")")},
            g.date_of_birth, g.dob_precision, g.dob_raw, g.approx_age, g.sex, g.sex_raw,
            g.ethnicity_self, g.ethnicity_self_raw, g.ethnicity_officer, g.ethnicity_officer_raw,
            g.nationality, g.nationality_raw, g.postcode, g.postcode_precision, g.postcode_raw,
            g.address, g.phone, g.phone_raw, g.email, g.postal_code, g.town, g.country,
            g.country_raw, g.dates_of_birth, g.postcodes
        FROM ({record}) g
        LEFT JOIN std_nickname nf ON nf.nickname = g.forename
        LEFT JOIN std_name_variant vf ON vf.name = coalesce(nf.formal, g.forename)
        LEFT JOIN std_name_variant vs ON vs.name = {sql.squash("g.surname")}
    """


def event_std_sql(
    mapping: Mapping, rows: str, table: str, file_name: str, file_index: int = 0
) -> str:
    """SQL creating ``table``: every staged event row with standard values and problems."""
    assert mapping.event is not None
    event = mapping.event
    date = sql.parse_date("date_value", _formats(event.date), "date")
    outcome_date = sql.parse_date("outcome_date_value", _formats(event.outcome_date), "outcome")
    offence = sql.offence_code("e.offence_value")
    outcome = f"coalesce(ow.code, {sql.outcome_code('e.outcome_value')})"
    section = sql.soa_section("e.section_value")
    # with no known offence code, the recorded section says what the offence is (soa_sections.csv)
    by_section = "o.ho_code IS NULL AND coalesce(ss.section, sb.section) IS NOT NULL"
    return f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT {sql.text(file_name)} AS file_name, {file_index} AS file_index, e.*,
            lower(trim(e.kind_value)) AS kind,
            {date.date} AS event_date, {date.problem} AS date_problem,
            o.ho_code AS offence_code, o.description AS offence_description,
            coalesce({section}, o.soa_section) AS soa_section,
            CASE WHEN {by_section} THEN true ELSE o.is_sexual = 'true' END AS is_sexual,
            CASE WHEN {by_section} THEN coalesce(ss.victim_age_band, sb.victim_age_band)
                 ELSE o.victim_age_band END AS victim_age_band,
            CASE WHEN e.offence_value IS NOT NULL AND o.ho_code IS NULL
                THEN 'unknown_code' END AS offence_problem,
            CASE WHEN e.section_value IS NOT NULL AND ({section}) IS NULL
                THEN 'unrecognised_section' END AS section_problem,
            {_not_yes_or_no("e.penetrative_value")} AS penetrative_problem,
            coalesce({sql.flag_of("e.penetrative_value")},
                CASE WHEN o.is_penetrative = 'true' THEN true
                     WHEN o.is_penetrative = 'false' THEN false END,
                CASE WHEN NOT ({by_section}) THEN NULL
                     WHEN coalesce(ss.is_penetrative, sb.is_penetrative) = 'true' THEN true
                     WHEN coalesce(ss.is_penetrative, sb.is_penetrative) = 'false' THEN false
                     END) AS is_penetrative,
            oc.code AS outcome_code, oc.label AS outcome_label, oc.category AS outcome_category,
            CASE WHEN e.outcome_value IS NOT NULL AND oc.code IS NULL
                THEN 'unknown_code' END AS outcome_problem,
            {outcome_date.date} AS outcome_date, {outcome_date.problem} AS outcome_date_problem,
            {sql.flag_of("e.cse_flag_value")} AS cse_flag,
            {_not_yes_or_no("e.cse_flag_value")} AS cse_flag_problem
        FROM {_with_parts(rows, date.parts | outcome_date.parts)} e
        LEFT JOIN std_offence o ON o.ho_code = {offence}
        LEFT JOIN std_soa_section ss
            ON ss.section = regexp_extract({section}, '^(s[0-9]+[a-z]?[(][0-9]+[)])', 1)
        LEFT JOIN std_soa_section sb
            ON sb.section = regexp_extract({section}, '^(s[0-9]+[a-z]?)', 1)
        LEFT JOIN std_outcome_word ow ON ow.word = {sql.words_key("e.outcome_value")}
        LEFT JOIN std_outcome oc ON oc.code = {outcome}
    """


EVENT_PROBLEMS = {
    "date": ("event_date", "date_problem"),
    "offence": ("offence", "offence_problem"),
    "outcome": ("outcome", "outcome_problem"),
    "outcome_date": ("outcome_date", "outcome_date_problem"),
    "section": ("soa_section", "section_problem"),
    "penetrative": ("is_penetrative", "penetrative_problem"),
    "cse_flag": ("cse_flag", "cse_flag_problem"),
}


def event_findings_sql(mapping: Mapping, source: str, events: str) -> str:
    """SQL inserting a finding for every event value set aside."""
    assert mapping.event is not None
    selects = _unmatched_patterns([mapping.event], EVENT_FIELDS, source, events)
    for field, (standard, problem) in EVENT_PROBLEMS.items():
        selects.append(
            f"SELECT {sql.text(source)}, file_name, row_number, local_id, "
            f"'{standard}', {sql.text(describe(getattr(mapping.event, field)))}, {field}_raw, "
            f"{problem} FROM {events} WHERE {problem} IS NOT NULL"
        )
    return "INSERT INTO finding " + " UNION ALL ".join(selects)


def event_sql(source: str, events: str) -> str:
    """SQL inserting one event per local id: each field's first known value."""
    firsts = (
        "kind",
        "event_date",
        "date_raw",
        "offence_code",
        "offence_raw",
        "offence_description",
        "soa_section",
        "is_sexual",
        "is_penetrative",
        "penetrative_raw",
        "victim_age_band",
        "outcome_code",
        "outcome_raw",
        "outcome_label",
        "outcome_category",
        "outcome_date",
        "outcome_date_raw",
        "cse_flag",
        "cse_flag_raw",
        "detail_raw",
    )
    aggregated = ", ".join(_first(column) for column in firsts)
    return f"""
        INSERT INTO event
        SELECT {sql.text(source)} || ':' || local_id, {sql.text(source)}, local_id,
            arg_min(row_number, {ROW_ORDER}), {aggregated}
        FROM {events} GROUP BY local_id
    """


def involvement_sql(source: str, people: str) -> str:
    """SQL inserting each person's part in its row's event, with age at the event."""
    src = sql.text(source)
    # a birth year alone gives an age that may be a year too high
    age = f"""CASE WHEN r.dob_precision = 'day'
        THEN {sql.calendar_age("r.date_of_birth", "e.event_date")}
        ELSE year(e.event_date) - year(r.date_of_birth) END"""
    return f"""
        INSERT INTO involvement
        SELECT {src}, {src} || ':' || p.event_local_id, {src} || ':' || p.local_id,
            {_first("file_name", "p.")}, {_first("row_number", "p.")}, p.role,
            {_first("role_raw", "p.")},
            CASE WHEN min(r.date_of_birth) IS NOT NULL AND min(e.event_date) IS NOT NULL
                THEN min({age}) ELSE min(p.approx_age) END
        FROM {people} p
        JOIN person_record r ON r.record_id = {src} || ':' || p.local_id
        LEFT JOIN event e ON e.event_id = {src} || ':' || p.event_local_id
        WHERE p.event_local_id IS NOT NULL
        GROUP BY p.event_local_id, p.local_id, p.role
    """
