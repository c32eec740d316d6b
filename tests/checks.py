"""Checks that stored data is whole: shared by the fuzz, fault and load tests."""
import re

from survey.store import tallies

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_MAX = 1000

# Each query lists offending response ids with a reason.
_WHOLE = {
    "没有筛查记录": "SELECT r.id FROM responses r LEFT JOIN screening s ON s.response_id = r.id "
                "WHERE r.survey_id = :sid AND s.response_id IS NULL",
    # (a conditional question only where its gate's answer made it apply)
    "必答题未作答": "SELECT r.id FROM responses r JOIN questions q ON q.survey_id = r.survey_id "
                "AND q.required = 1 WHERE r.survey_id = :sid AND NOT EXISTS (SELECT 1 FROM "
                "answers a WHERE a.response_id = r.id AND a.question_id = q.id) AND ("
                "q.show_if_question_id IS NULL OR EXISTS (SELECT 1 FROM answers g WHERE "
                "g.response_id = r.id AND g.question_id = q.show_if_question_id AND g.option_id "
                "IN (SELECT value FROM json_each(q.show_if_option_ids))))",
    "回答了不适用的题目": "SELECT DISTINCT a.response_id FROM answers a JOIN responses r ON "
                   "r.id = a.response_id JOIN questions q ON q.id = a.question_id WHERE "
                   "r.survey_id = :sid AND q.show_if_question_id IS NOT NULL AND NOT EXISTS ("
                   "SELECT 1 FROM answers g WHERE g.response_id = r.id AND g.question_id = "
                   "q.show_if_question_id AND g.option_id IN (SELECT value FROM "
                   "json_each(q.show_if_option_ids)))",
    "选项不属于该题": "SELECT a.response_id FROM answers a JOIN responses r ON r.id = a.response_id "
                 "LEFT JOIN options o ON o.id = a.option_id WHERE r.survey_id = :sid AND "
                 "a.option_id IS NOT NULL AND (o.id IS NULL OR o.question_id != a.question_id)",
    "题目不属于该问卷": "SELECT a.response_id FROM answers a JOIN responses r ON r.id = a.response_id "
                  "JOIN questions q ON q.id = a.question_id WHERE r.survey_id = :sid AND "
                  "q.survey_id != r.survey_id",
    "单选题多于一个选项": "SELECT a.response_id FROM answers a JOIN responses r ON r.id = a.response_id"
                   " JOIN questions q ON q.id = a.question_id WHERE r.survey_id = :sid AND "
                   "q.kind IN ('scale', 'single') GROUP BY a.response_id, a.question_id "
                   "HAVING count(*) > 1",
    "选择题答案缺少选项": "SELECT a.response_id FROM answers a JOIN responses r ON r.id = "
                   "a.response_id JOIN questions q ON q.id = a.question_id WHERE r.survey_id = "
                   ":sid AND q.kind != 'text' AND a.option_id IS NULL",
}


def _tally_rows(db, survey_id: int) -> tuple[list, list]:
    return (
        [tuple(r) for r in db.execute(
            "SELECT day, source, channel, returned, valid FROM response_tallies "
            "WHERE survey_id = ? AND (returned != 0 OR valid != 0) ORDER BY 1, 2, 3", [survey_id])],
        [tuple(r) for r in db.execute(
            "SELECT day, source, channel, question_id, option_id, count FROM answer_tallies "
            "WHERE survey_id = ? AND count != 0 ORDER BY 1, 2, 3, 4, 5", [survey_id])],
    )


def tallies_match_recount(db, survey_id: int) -> bool:
    """The kept tallies equal a plain GROUP BY over the responses (rolled back after)."""
    kept = _tally_rows(db, survey_id)
    db.conn.execute("BEGIN")
    try:
        tallies.recount(db, survey_id)
        recounted = _tally_rows(db, survey_id)
    finally:
        db.conn.execute("ROLLBACK")
    return kept == recounted


def incomplete_responses(db, survey_id: int) -> list[str]:
    """Problems with stored responses, in Chinese; empty when every response is whole."""
    problems = [f"第 {row[0]} 号答卷{reason}" for reason, sql in _WHOLE.items()
                for row in db.execute(sql, {"sid": survey_id})]
    for response_id, text in db.execute(
            "SELECT a.response_id, a.text FROM answers a JOIN responses r ON r.id = a.response_id"
            " WHERE r.survey_id = ? AND a.text IS NOT NULL", [survey_id]):
        if len(text) > TEXT_MAX or _CONTROL.search(text) or not text.strip():
            problems.append(f"第 {response_id} 号答卷的文字答案未经清理")
    if not tallies_match_recount(db, survey_id):
        problems.append("计数表与重新统计的结果不一致")
    return problems
