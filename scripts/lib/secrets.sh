# shellcheck shell=bash
# The stack's secrets: generated once per state folder into mode-600 files and reused, so tokens,
# logins and the database keep working across restarts. Needs common.sh.
#   jwt_secret            DT_JWT_SECRET      gateway, auth
#   admin-password        DT_ADMIN_PASSWORD  auth
#   internal-key          DT_INTERNAL_KEY    gateway and every service (GatewayProof)
#   pg-password           DT_PG_PASSWORD     services that use PostgreSQL (role daytrade)
#   pg-superuser-password                    scripts only (role postgres)
#   redis-password        DT_REDIS_PASSWORD  services that use Redis (requirepass)
#   pg-replication-password                  standbys only (role replicator, PG_STANDBYS > 0)

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# ensure_secret NAME [BYTES]: creates STATE_DIR/NAME with a random hex value unless it exists.
ensure_secret() {
    local file="$STATE_DIR/$1"
    [ -s "$file" ] || (umask 077; random_hex "${2:-32}" >"$file.tmp" && echo >>"$file.tmp" && mv "$file.tmp" "$file")
    chmod 600 "$file"
}

read_secret() {
    local file="$STATE_DIR/$1"
    [ -s "$file" ] || die "missing secret $file (run scripts/up)"
    head -n1 "$file"
}

# Makes the missing secrets (DT_ADMIN_PASSWORD in the environment replaces the stored one).
ensure_secrets() {
    mkdir -p "$STATE_DIR"
    ensure_secret jwt_secret
    if [ -n "${DT_ADMIN_PASSWORD:-}" ]; then
        (umask 077; printf '%s\n' "$DT_ADMIN_PASSWORD" >"$STATE_DIR/admin-password")
    fi
    ensure_secret admin-password 12
    ensure_secret internal-key
    ensure_secret pg-password 24
    ensure_secret pg-superuser-password 24
    ensure_secret redis-password 24
    ensure_secret pg-replication-password 24
}

# Sets the variables the other pieces read (no export: each service gets only its own, see service_env).
load_secrets() {
    DT_JWT_SECRET="$(read_secret jwt_secret)"
    DT_ADMIN_PASSWORD="$(read_secret admin-password)"
    DT_INTERNAL_KEY="$(read_secret internal-key)"
    DT_PG_PASSWORD="$(read_secret pg-password)"
    PG_SUPERUSER_PASSWORD="$(read_secret pg-superuser-password)"
    DT_REDIS_PASSWORD="$(read_secret redis-password)"
    # Made by ensure_secrets since replication exists; older state folders get it at their next up.
    PG_REPLICATION_PASSWORD="$(head -n1 "$STATE_DIR/pg-replication-password" 2>/dev/null || true)"
}
