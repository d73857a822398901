"""`auth_flow_budget_take`: an hour's SMS budgets taken in one statement (PostgreSQL).

auth_flow/sms/budgets.py says why: the row locks of a take are then held for the
statement alone, never across round trips to a busy app process.
"""

from django.db import migrations

TAKE_ONE = """
CREATE OR REPLACE FUNCTION auth_flow_budget_take_one(
    p_key text, p_window timestamptz, p_limit integer
) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    -- An UPDATE whose condition fails locks nothing: a spent row holds nobody up.
    UPDATE auth_flow_sendbudget SET used = used + 1
     WHERE key = p_key AND window_start = p_window AND used < p_limit;
    IF FOUND THEN
        RETURN true;
    END IF;
    -- No row yet (the hour's first take from this key), or one another take made
    -- after this statement's snapshot, or a spent one: make it if missing (waiting
    -- for a racing maker), then try again with a fresh snapshot.
    INSERT INTO auth_flow_sendbudget (key, window_start, used, refused)
    VALUES (p_key, p_window, 0, 0) ON CONFLICT (key, window_start) DO NOTHING;
    UPDATE auth_flow_sendbudget SET used = used + 1
     WHERE key = p_key AND window_start = p_window AND used < p_limit;
    RETURN FOUND;
END $$;
"""

# One shard of the global budget; NULL when the whole budget is spent.
TAKE_GLOBAL = """
CREATE OR REPLACE FUNCTION auth_flow_budget_take_global(
    p_window timestamptz, p_shards text[], p_shard_limits integer[], p_first integer
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_shards);
    total integer;
BEGIN
    -- Each shard within its share keeps the sum within the limit: start at a random
    -- shard, pass a spent one (without a lock) to the next.
    IF NOT EXISTS (
        SELECT 1 FROM auth_flow_sendbudget
         WHERE window_start = p_window AND starts_with(key, 'global:')
           AND used > coalesce(p_shard_limits[array_position(p_shards, key::text)], 0)
    ) THEN
        FOR i IN 0 .. n - 1 LOOP
            IF auth_flow_budget_take_one(
                p_shards[mod(p_first + i, n) + 1], p_window, p_shard_limits[mod(p_first + i, n) + 1]
            ) THEN
                RETURN p_shards[mod(p_first + i, n) + 1];
            END IF;
        END LOOP;
        RETURN NULL;
    END IF;
    -- A shard holds more than its share: the limit or the number of shards changed
    -- within the hour, and the shares no longer bound the sum. Take turns for the
    -- rest of it: lock the hour's shards (in key order, as everyone takes them: no
    -- deadlock), add them up, and take from a shard below its share (while the sum
    -- is below the limit one is). A take never puts a shard above its share.
    PERFORM 1 FROM auth_flow_sendbudget
      WHERE window_start = p_window AND starts_with(key, 'global:') ORDER BY key FOR UPDATE;
    SELECT coalesce(sum(used), 0) INTO total FROM auth_flow_sendbudget
     WHERE window_start = p_window AND starts_with(key, 'global:');
    IF total >= (SELECT coalesce(sum(share), 0) FROM unnest(p_shard_limits) AS share) THEN
        RETURN NULL;
    END IF;
    FOR i IN 1 .. n LOOP
        IF auth_flow_budget_take_one(p_shards[i], p_window, p_shard_limits[i]) THEN
            RETURN p_shards[i];
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
"""

# Returns NULL when every budget gave a unit, else {refused key, its refusals so far}.
TAKE = """
CREATE OR REPLACE FUNCTION auth_flow_budget_take(
    p_window timestamptz, p_shards text[], p_shard_limits integer[], p_first integer,
    p_keys text[], p_limits integer[]
) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    shard text;
    taken text[] := '{}';
    refused_key text;
    refusals integer;
BEGIN
    -- For this statement's commit only (it is its own transaction in autocommit).
    PERFORM set_config('synchronous_commit', 'off', true);
    shard := auth_flow_budget_take_global(p_window, p_shards, p_shard_limits, p_first);
    IF shard IS NULL THEN
        refused_key := p_shards[1];
    ELSE
        taken := ARRAY[shard];
        FOR i IN 1 .. coalesce(cardinality(p_keys), 0) LOOP
            IF NOT auth_flow_budget_take_one(p_keys[i], p_window, p_limits[i]) THEN
                refused_key := p_keys[i];
                EXIT;
            END IF;
            taken := taken || p_keys[i];
        END LOOP;
    END IF;
    IF refused_key IS NULL THEN
        RETURN NULL;
    END IF;
    -- All or none: give back what this statement took. It holds those rows' locks
    -- until it commits, so nobody ever saw the units it returns.
    UPDATE auth_flow_sendbudget SET used = used - 1
     WHERE window_start = p_window AND key = ANY (taken);
    INSERT INTO auth_flow_sendbudget AS budget (key, window_start, used, refused)
    VALUES (refused_key, p_window, 0, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET refused = budget.refused + 1
    RETURNING budget.refused INTO refusals;
    RETURN ARRAY[refused_key, refusals::text];
END $$;
"""

DROP = """
DROP FUNCTION IF EXISTS auth_flow_budget_take(timestamptz, text[], integer[], integer, text[], integer[]);
DROP FUNCTION IF EXISTS auth_flow_budget_take_global(timestamptz, text[], integer[], integer);
DROP FUNCTION IF EXISTS auth_flow_budget_take_one(text, timestamptz, integer);
"""


def create(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TAKE_ONE)
        schema_editor.execute(TAKE_GLOBAL)
        schema_editor.execute(TAKE)


def drop(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0007_challenge_replaced_by"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
