"""The schema, as append-only migrations. Never edit a migration once it has shipped;
add a new one at the end."""
import re

from sqlite_utils import Migrations

migrations = Migrations("survey")


@migrations()
def m001_foundation(db):
    db.executescript(
        """
        CREATE TABLE departments (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
            department_id INTEGER NOT NULL REFERENCES departments(id),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE surveys (
            id INTEGER PRIMARY KEY,
            department_id INTEGER NOT NULL REFERENCES departments(id),
            title TEXT NOT NULL,
            intro TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
            opens_at TEXT,
            closes_at TEXT,
            token TEXT NOT NULL UNIQUE,
            dedupe_policy TEXT NOT NULL DEFAULT 'none'
                CHECK (dedupe_policy IN ('none', 'device_cookie')),
            settings TEXT NOT NULL DEFAULT '{}',
            year INTEGER,
            series TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX surveys_department ON surveys(department_id);
        CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('scale', 'single', 'multiple', 'text')),
            text TEXT NOT NULL,
            required INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX questions_survey ON questions(survey_id, position);
        CREATE TABLE options (
            id INTEGER PRIMARY KEY,
            question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            label TEXT NOT NULL,
            value REAL,
            satisfied INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX options_question ON options(question_id, position);
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            received_at TEXT NOT NULL,
            day TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('qr', 'web', 'paper')),
            channel TEXT NOT NULL DEFAULT '',
            duration_seconds REAL,
            device_hash TEXT,
            ip_hash TEXT,
            nonce TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (survey_id, nonce)
        );
        CREATE INDEX responses_survey_id ON responses(survey_id, id);
        CREATE INDEX responses_device ON responses(survey_id, device_hash);
        CREATE INDEX responses_ip ON responses(ip_hash, received_at);
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
            question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
            option_id INTEGER REFERENCES options(id) ON DELETE CASCADE,
            text TEXT
        );
        CREATE INDEX answers_response ON answers(response_id);
        CREATE INDEX answers_option ON answers(option_id);
        -- Current validity of each response; the response row itself is never edited.
        CREATE TABLE screening (
            response_id INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
            valid INTEGER NOT NULL,
            reasons TEXT NOT NULL DEFAULT '[]',
            manual INTEGER NOT NULL DEFAULT 0,
            manual_reason TEXT
        );
        -- Append-only log of staff decisions on validity.
        CREATE TABLE validity_decisions (
            id INTEGER PRIMARY KEY,
            response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
            valid INTEGER NOT NULL,
            reason TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            decided_at TEXT NOT NULL
        );
        -- Tallies kept in the same transaction as each response (and each validity change),
        -- so the summary of a million responses reads a few hundred rows.
        CREATE TABLE response_tallies (
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            source TEXT NOT NULL,
            channel TEXT NOT NULL,
            returned INTEGER NOT NULL DEFAULT 0,
            valid INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (survey_id, day, source, channel)
        );
        -- option_id 0 counts valid responses that answered the question at all.
        CREATE TABLE answer_tallies (
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            source TEXT NOT NULL,
            channel TEXT NOT NULL,
            question_id INTEGER NOT NULL,
            option_id INTEGER NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (survey_id, day, source, channel, question_id, option_id)
        );
        CREATE TABLE form_views (
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            channel TEXT NOT NULL,
            views INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (survey_id, day, channel)
        );
        CREATE TABLE issued_batches (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            count INTEGER NOT NULL CHECK (count >= 0),
            note TEXT NOT NULL DEFAULT '',
            user_id INTEGER REFERENCES users(id),
            recorded_at TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            department_id INTEGER,
            user_id INTEGER,
            action TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}',
            at TEXT NOT NULL
        );
        CREATE TABLE rate_events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            at TEXT NOT NULL,
            blocked INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX rate_events_key ON rate_events(kind, key_hash, at);
        """
    )


@migrations()
def m002_survey_settings_defaults(db):
    # Surveys made before headline/value settings existed get the documented defaults.
    db.execute(
        "UPDATE surveys SET settings = json_patch("
        "'{\"satisfied_levels\": 2, \"value_preset\": \"linear\", \"headline\": \"question\"}',"
        " settings)"
    )


# --- feature migrations: append below, one function per change, never edit one that shipped ---


@migrations()
def m110_api_tokens_and_imports(db):
    db.executescript(
        """
        -- Per-department API tokens; only the SHA-256 of the token is kept.
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            department_id INTEGER NOT NULL REFERENCES departments(id),
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            revoked_by INTEGER REFERENCES users(id),
            last_used_at TEXT
        );
        CREATE INDEX api_tokens_department ON api_tokens(department_id);
        -- Paper questionnaire files imported; the SHA-256 refuses the same file twice.
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            filename TEXT NOT NULL,
            rows INTEGER NOT NULL,
            first_response_id INTEGER,
            last_response_id INTEGER,
            user_id INTEGER REFERENCES users(id),
            imported_at TEXT NOT NULL,
            UNIQUE (survey_id, sha256)
        );
        """
    )


@migrations()
def m110_builder_channels_and_answer_index(db):
    # The editor asks "has this question any answers?" before a delete or a change of kind;
    # without this index that is a scan of every answer ever given.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS answers_question ON answers(question_id);
        -- Channel tags staff have set up for posters and windows (responses keep their own tag).
        CREATE TABLE survey_channels (
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (survey_id, name)
        );
        """
    )


@migrations()
def m130_follow_up_cases(db):
    db.executescript(
        """
        -- One follow-up case per dissatisfied response (差评), opened in the response's transaction.
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            response_id INTEGER NOT NULL UNIQUE REFERENCES responses(id) ON DELETE CASCADE,
            department_id INTEGER NOT NULL REFERENCES departments(id),
            channel TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN
                ('open', 'in_progress', 'appeal_pending', 'closed', 'dismissed')),
            triggers TEXT NOT NULL DEFAULT '[]',
            response_valid INTEGER NOT NULL,
            callback_requested INTEGER NOT NULL DEFAULT 0,
            opened_at TEXT NOT NULL,
            opened_day TEXT NOT NULL,
            due_day TEXT NOT NULL,
            due_working_days INTEGER NOT NULL,
            assignee_id INTEGER REFERENCES users(id),
            called_back_at TEXT,
            callback_note TEXT,
            cause TEXT,
            rectification TEXT,
            reply TEXT,
            appeal_kind TEXT,
            appeal_reason TEXT,
            closed_at TEXT,
            closed_day TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX cases_department_due ON cases(department_id, status, due_day);
        CREATE INDEX cases_survey ON cases(survey_id, opened_day);
        -- Every step of a case: who, when, what (append-only).
        CREATE TABLE case_events (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            status_from TEXT,
            status_to TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            detail TEXT NOT NULL DEFAULT '{}',
            at TEXT NOT NULL
        );
        CREATE INDEX case_events_case ON case_events(case_id, id);
        -- A citizen's call-back number, given with explicit consent; kept apart from the answers
        -- (never in the hash chain) and deleted when it expires.
        CREATE TABLE callback_contacts (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            phone TEXT NOT NULL,
            consent_text TEXT NOT NULL,
            consented_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX callback_contacts_expiry ON callback_contacts(expires_at);
        -- A department's own working-day decisions on top of the national calendar.
        CREATE TABLE workday_overrides (
            id INTEGER PRIMARY KEY,
            department_id INTEGER NOT NULL REFERENCES departments(id),
            day TEXT NOT NULL,
            is_workday INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            user_id INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            UNIQUE (department_id, day)
        );
        """
    )


@migrations()
def m150_assessments(db):
    # The annual self-evaluation (部门整体支出绩效自评). Decimal figures are stored as text so
    # money and scores are never touched by binary floating point.
    db.executescript(
        """
        CREATE TABLE assessments (
            id INTEGER PRIMARY KEY,
            department_id INTEGER NOT NULL REFERENCES departments(id),
            year INTEGER NOT NULL,
            title TEXT NOT NULL,
            template TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'final')),
            finalised_at TEXT,
            finalised_by INTEGER REFERENCES users(id),
            snapshot TEXT,
            grade_bands TEXT NOT NULL DEFAULT '[]',
            budget TEXT NOT NULL DEFAULT '{}',
            duty_goals TEXT NOT NULL DEFAULT '{}',
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX assessments_department ON assessments(department_id, year);
        CREATE TABLE assessment_indicators (
            id INTEGER PRIMARY KEY,
            assessment_id INTEGER NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES assessment_indicators(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            level INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
            name TEXT NOT NULL,
            weight TEXT NOT NULL DEFAULT '0',
            target TEXT NOT NULL DEFAULT '',
            comparison TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            rule TEXT,
            actual TEXT,
            score TEXT,
            notes TEXT NOT NULL DEFAULT '',
            reported_total TEXT,
            reported_versions TEXT NOT NULL DEFAULT '{}',
            survey_id INTEGER REFERENCES surveys(id) ON DELETE SET NULL,
            figure TEXT
        );
        CREATE INDEX assessment_indicators_tree
            ON assessment_indicators(assessment_id, parent_id, position);
        CREATE TABLE assessment_budget_lines (
            id INTEGER PRIMARY KEY,
            assessment_id INTEGER NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            source TEXT NOT NULL,
            initial TEXT,
            full_year TEXT,
            executed TEXT
        );
        CREATE TABLE assessment_history (
            id INTEGER PRIMARY KEY,
            assessment_id INTEGER NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
            user_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            field TEXT NOT NULL,
            old TEXT,
            new TEXT
        );
        CREATE INDEX assessment_history_assessment ON assessment_history(assessment_id, id);
        CREATE TABLE assessment_explanations (
            id INTEGER PRIMARY KEY,
            assessment_id INTEGER NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
            finding TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            explanation TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL,
            UNIQUE (assessment_id, finding)
        );
        """
    )


@migrations()
def m160_dashboard_indexes(db):
    # The dashboard's rate per channel groups the answer tallies by channel, and the figures
    # total them per question: a covering index reads both without touching the table rows.
    # Excluded responses are listed newest first from a partial index of the invalid ones.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS answer_tallies_channel
            ON answer_tallies(survey_id, channel, question_id, option_id, count);
        CREATE INDEX IF NOT EXISTS screening_invalid ON screening(response_id) WHERE valid = 0;
        """
    )


@migrations()
def m170_issued_batch_channel(db):
    # 发放 per channel: a batch handed out through one channel (a window, a poster's QR tag,
    # paper). NULL is a batch for the whole survey, as every batch recorded before this was;
    # those keep counting against every channel without a batch of its own.
    db.executescript(
        """
        ALTER TABLE issued_batches ADD COLUMN channel TEXT;
        CREATE INDEX IF NOT EXISTS issued_batches_survey_channel
            ON issued_batches(survey_id, channel);
        """
    )


@migrations()
def m171_form_revisions(db):
    # The public form caches a survey's questions and options (and the HTML made from them)
    # under this revision; every change to a question or option draws a new random one, so no
    # code path can edit a questionnaire and leave a citizen a stale form. random() also keeps
    # revisions of different databases (a restored backup) from ever meaning the same thing.
    db.executescript(
        """
        CREATE TABLE form_revisions (
            survey_id INTEGER PRIMARY KEY,
            revision INTEGER NOT NULL
        );
        CREATE TRIGGER form_revision_question_insert AFTER INSERT ON questions BEGIN
            INSERT OR REPLACE INTO form_revisions VALUES (NEW.survey_id, random());
        END;
        CREATE TRIGGER form_revision_question_update AFTER UPDATE ON questions BEGIN
            INSERT OR REPLACE INTO form_revisions VALUES (NEW.survey_id, random());
            INSERT OR REPLACE INTO form_revisions VALUES (OLD.survey_id, random());
        END;
        CREATE TRIGGER form_revision_question_delete AFTER DELETE ON questions BEGIN
            INSERT OR REPLACE INTO form_revisions VALUES (OLD.survey_id, random());
        END;
        CREATE TRIGGER form_revision_option_insert AFTER INSERT ON options BEGIN
            INSERT OR REPLACE INTO form_revisions
                SELECT survey_id, random() FROM questions WHERE id = NEW.question_id;
        END;
        CREATE TRIGGER form_revision_option_update AFTER UPDATE ON options BEGIN
            INSERT OR REPLACE INTO form_revisions
                SELECT survey_id, random() FROM questions WHERE id IN (NEW.question_id, OLD.question_id);
        END;
        CREATE TRIGGER form_revision_option_delete AFTER DELETE ON options BEGIN
            INSERT OR REPLACE INTO form_revisions
                SELECT survey_id, random() FROM questions WHERE id = OLD.question_id;
        END;
        INSERT INTO form_revisions SELECT id, random() FROM surveys;
        """
    )


@migrations()
def m172_import_state(db):
    # A paper import is written in short chunks (citizens' submissions go on between them) and
    # made visible in one final transaction; until then its import row is 'pending'.
    db.execute("ALTER TABLE imports ADD COLUMN state TEXT NOT NULL DEFAULT 'done'")


@migrations()
def m200_transaction_evaluations(db):
    # 一事一评: one evaluation per service transaction (办件). An invitation is the 发放 of
    # one transaction; a window tablet (kiosk) answers for its window. Window names are the
    # channel tags of the window's answers, so the per-channel figures are the per-window ones.
    db.executescript(
        """
        -- What a token may do: 'read' (every token) and 'invite' (create invitations).
        ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read';
        -- A service window of a survey and the account its 差评 cases go to.
        CREATE TABLE survey_windows (
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (survey_id, name)
        );
        -- One invitation per transaction: the same reference is the same invitation.
        CREATE TABLE invitations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            reference TEXT NOT NULL,
            window_name TEXT NOT NULL DEFAULT '',
            staff_code TEXT NOT NULL DEFAULT '',
            token TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            UNIQUE (survey_id, reference)
        );
        CREATE INDEX invitations_window ON invitations(survey_id, window_name, created_at);
        CREATE TABLE kiosks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            window_name TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            revoked_by INTEGER REFERENCES users(id)
        );
        CREATE INDEX kiosks_survey ON kiosks(survey_id);
        -- The transaction an answer evaluates. UNIQUE invitation_id: an invitation is
        -- answered once, enforced in the transaction that stores the response.
        CREATE TABLE response_transactions (
            response_id INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
            survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
            invitation_id INTEGER UNIQUE REFERENCES invitations(id) ON DELETE SET NULL,
            kiosk_id INTEGER REFERENCES kiosks(id) ON DELETE SET NULL,
            window_name TEXT NOT NULL DEFAULT '',
            staff_code TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX response_transactions_staff ON response_transactions(survey_id, staff_code);
        """
    )


@migrations()
def m173_survey_archive(db):
    # A survey with answers is archived, never deleted by a click: hidden from the lists and
    # closed to new answers, its responses, cases and figures kept. NULL: not archived.
    db.execute("ALTER TABLE surveys ADD COLUMN archived_at TEXT")


@migrations()
def m174_question_versions(db):
    # Each wording a question was shown in before its current one (text and option labels),
    # recorded when it changed after answers had arrived: the evidence package lists which
    # wording each response was given. valid_from NULL: since the question was created.
    db.executescript(
        """
        CREATE TABLE question_versions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '[]',
            valid_from TEXT,
            valid_to TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id)
        );
        CREATE INDEX question_versions_question ON question_versions(question_id, valid_to);
        """
    )


@migrations()
def m180_staff_sessions(db):
    # Server-side staff sessions: the cookie carries a random id, this table its SHA-256 (a
    # stolen database cannot be replayed as cookies), so logout, a password change and disabling
    # an account end a session even when its cookie was saved elsewhere.
    db.executescript(
        """
        CREATE TABLE staff_sessions (
            id_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE INDEX staff_sessions_user ON staff_sessions(user_id) WHERE revoked_at IS NULL;
        """
    )


# Tables whose ids people see (in URLs, exports, case numbers, audit trails).
NEVER_REUSED_IDS = ("users", "surveys", "responses", "issued_batches", "api_tokens", "imports",
                    "cases", "workday_overrides", "assessments", "assessment_indicators")


@migrations()
def m181_ids_never_reused(db):
    # Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so deleting the newest
    # survey, response or case hands its id to the next one: a printed or exported id would
    # then name another record. Each table is rebuilt with AUTOINCREMENT (SQLite's documented
    # table rebuild; foreign keys are off while migrations run, so nothing cascades), keeping
    # its rows, ids, indexes and triggers.
    if db.execute("PRAGMA foreign_keys").fetchone()[0]:
        # Dropping the old table would cascade to every child row: refuse, change nothing.
        raise RuntimeError("m181 must run with foreign keys off, as store.initialise runs it")
    db.execute("PRAGMA legacy_alter_table = ON")  # rename only the table, touch no other schema
    try:
        for table in NEVER_REUSED_IDS:
            _rebuild_with_autoincrement(db, table)
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")


def _rebuild_with_autoincrement(db, table: str) -> None:
    create, = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                         [table]).fetchone()
    new_create, replaced = re.subn(r"\bid INTEGER PRIMARY KEY\b(?! AUTOINCREMENT)",
                                   "id INTEGER PRIMARY KEY AUTOINCREMENT", create, count=1)
    if not replaced:
        return  # already AUTOINCREMENT
    extras = [sql for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? "
        "AND sql IS NOT NULL", [table]).fetchall()]
    header = re.match(r"CREATE TABLE\s+(\[[^\]]+\]|\"[^\"]+\"|\w+)", new_create)
    # Table names from NEVER_REUSED_IDS only: nothing here comes from outside.
    db.execute(f"CREATE TABLE [{table}_rebuilt]" + new_create[header.end():])
    db.execute(f"INSERT INTO [{table}_rebuilt] SELECT * FROM [{table}]")  # nosec B608 - own names
    db.execute(f"DROP TABLE [{table}]")
    db.execute(f"ALTER TABLE [{table}_rebuilt] RENAME TO [{table}]")
    for sql in extras:
        db.execute(sql)


@migrations()
def m182_instance_key_fingerprint(db):
    # Which instance secrets (SECRET_KEY, HASH_KEY in instance/config.py) this database's keyed
    # hashes were made with, as a fingerprint that reveals neither: a backup restored on another
    # machine can then say that config.py must be copied too.
    db.execute("CREATE TABLE instance_keys (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")


@migrations()
def m190_question_show_if(db):
    # 一事一评: a question shown only when an earlier choice question's answer is one of
    # the given options (a JSON list of option ids: relabelling an option keeps the rule).
    # Both are columns of `questions`, so m171's form_revision_question_update trigger draws
    # a new form revision whenever a condition changes: no trigger of its own is needed
    # (tests/web/test_show_if.py checks it). No ON DELETE action: the editor refuses to delete
    # a question a condition rests on, and an action's UPDATE would fire that trigger inside
    # a survey's cascading delete, where its INSERT OR REPLACE is overridden to ABORT.
    db.executescript(
        """
        ALTER TABLE questions ADD COLUMN show_if_question_id INTEGER REFERENCES questions(id);
        ALTER TABLE questions ADD COLUMN show_if_option_ids TEXT;
        -- the foreign key's check when questions are deleted looks questions up by their gate
        CREATE INDEX questions_show_if ON questions(show_if_question_id);
        """
    )
