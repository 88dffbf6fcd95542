#!/bin/sh
# Creates or updates the Event Grid subscription that delivers Defender malware-scan results to
# the function malware_scan_result, once that function is deployed and answering.
#
# Runs as the azd postdeploy hook (azure.yaml: `azd up`, `azd deploy`, `azd hooks run
# postdeploy`) and as a step of .github/workflows/deploy.yml after the code is published. It is
# idempotent: every run deploys infra/scan-webhook.bicep again (a PUT of the same subscription),
# which also picks up a rotated function key. With malware scanning off it does nothing.
#
# It waits, up to a deadline, until
#   1. the function malware_scan_result is listed on the app (the code deployment has synced),
#   2. the function has a key (the host has started and written its secrets),
# warms the app up (GET /health), then deploys the subscription, retrying until the deadline:
# Event Grid's validation handshake fails while a cold instance is still starting. Finally it
# checks that the subscription is in state Succeeded.
#
# Reads (azd passes its environment, including main.bicep outputs; the workflow exports them):
#   AZURE_RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME, AZURE_FUNCTION_URL (optional, warm-up),
#   MALWARE_SCAN_MODE, MALWARE_SCAN_TOPIC_NAME, MALWARE_SCAN_DEAD_LETTER_CONTAINER,
#   AZURE_STORAGE_ACCOUNT_NAME, MALWARE_SCAN_WEBHOOK_TENANT_ID,
#   MALWARE_SCAN_WEBHOOK_AUDIENCE
#   SCAN_WEBHOOK_TIMEOUT_SECONDS (default 900), SCAN_WEBHOOK_POLL_SECONDS (default 15)
# Needs: az (signed in, allowed to deploy to the resource group), and curl for the warm-up.
# Exit status: 0 subscribed (or scanning off), 1 gave up at the deadline, 2 configuration error.
set -eu

FUNCTION_NAME=malware_scan_result
SUBSCRIPTION_NAME=malware-scan-results-to-api
DEPLOYMENT_NAME=malware-scan-webhook

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
template="$script_dir/../scan-webhook.bicep"

log() { printf '%s\n' "subscribe-scan-webhook: $*"; }
fail() { code=$1; shift; printf '%s\n' "subscribe-scan-webhook: ERROR: $*" >&2; exit "$code"; }
# Never print a function key: Azure error messages may quote the endpoint URL.
mask() { sed -e 's/code=[^&"'"'"' ]*/code=***/g'; }

need() {
    eval "value=\${$1:-}"
    [ -n "$value" ] || fail 2 "$1 is not set. $2"
}

case "${MALWARE_SCAN_MODE:-}" in
    none)
        log "malware scanning is off (MALWARE_SCAN_MODE=none): no webhook subscription to create."
        exit 0 ;;
    defender) ;;
    '') fail 2 "MALWARE_SCAN_MODE is not set: run this after provisioning, with the outputs of infra/main.bicep in the environment (azd does that; see docs/deploy.md)." ;;
    *) fail 2 "MALWARE_SCAN_MODE='$MALWARE_SCAN_MODE' is neither 'none' nor 'defender'." ;;
esac

outputs_hint="It is an output of infra/main.bicep: provision first (azd provision, or the deploy workflow)."
need AZURE_RESOURCE_GROUP "$outputs_hint"
need AZURE_FUNCTION_APP_NAME "$outputs_hint"
need MALWARE_SCAN_TOPIC_NAME "$outputs_hint"
need MALWARE_SCAN_DEAD_LETTER_CONTAINER "$outputs_hint"
need AZURE_STORAGE_ACCOUNT_NAME "$outputs_hint"
need MALWARE_SCAN_WEBHOOK_TENANT_ID "$outputs_hint"
need MALWARE_SCAN_WEBHOOK_AUDIENCE "Event Grid delivers scan results with an Entra ID token for the webhook's app registration. Create it once with infra/hooks/create-scan-webhook-entra-app.sh, then set MALWARE_SCAN_WEBHOOK_AUDIENCE to the application id it prints (azd env set ..., or the GitHub environment variable) and provision again."

rg=$AZURE_RESOURCE_GROUP
app=$AZURE_FUNCTION_APP_NAME
timeout=${SCAN_WEBHOOK_TIMEOUT_SECONDS:-900}
poll=${SCAN_WEBHOOK_POLL_SECONDS:-15}
case "$timeout$poll" in *[!0-9]*) fail 2 "SCAN_WEBHOOK_TIMEOUT_SECONDS and SCAN_WEBHOOK_POLL_SECONDS must be whole seconds." ;; esac
[ -f "$template" ] || fail 2 "template $template not found."
command -v az >/dev/null 2>&1 || fail 2 "the Azure CLI (az) is required."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
last_error="$work/last-error"
: >"$last_error"

deadline=$(( $(date +%s) + timeout ))
seconds_left() { echo $(( deadline - $(date +%s) )); }

# wait_for WHAT CHECK: run the shell function CHECK until it succeeds or the deadline passes.
wait_for() {
    what=$1
    check=$2
    while ! "$check"; do
        left=$(seconds_left)
        if [ "$left" -le 0 ]; then
            fail 1 "gave up after ${timeout}s waiting for $what. Last answer from Azure: $(tail -n 5 "$last_error" | mask)
Rerun this script (azd hooks run postdeploy, or rerun the workflow) once the app is healthy; SCAN_WEBHOOK_TIMEOUT_SECONDS sets the deadline."
        fi
        log "waiting for $what (${left}s left)..."
        sleep "$poll"
    done
}

function_listed() {
    name=$(az functionapp function show --resource-group "$rg" --name "$app" \
        --function-name "$FUNCTION_NAME" --query name --output tsv 2>"$last_error") || return 1
    # ARM answers <app>/<function>.
    case "$name" in "$FUNCTION_NAME" | */"$FUNCTION_NAME") return 0 ;; esac
    echo "function listed as '$name'" >"$last_error"
    return 1
}

function_key_ready() {
    # Only the number of keys is read, never a key.
    count=$(az functionapp function keys list --resource-group "$rg" --name "$app" \
        --function-name "$FUNCTION_NAME" --query 'length(@)' --output tsv 2>"$last_error") || return 1
    case "$count" in '' | *[!0-9]*) echo "unexpected key count '$count'" >"$last_error"; return 1 ;; esac
    [ "$count" -gt 0 ] || { echo "the function has no key yet" >"$last_error"; return 1; }
}

az account show --query id --output tsv >/dev/null 2>"$last_error" ||
    fail 2 "the Azure CLI is not signed in ($(tail -n 1 "$last_error" | mask)). Sign in with az login (locally) or azure/login (workflow)."

topic_id=$(az eventgrid topic show --resource-group "$rg" --name "$MALWARE_SCAN_TOPIC_NAME" \
    --query id --output tsv 2>"$last_error") ||
    fail 2 "Event Grid topic $MALWARE_SCAN_TOPIC_NAME not found in $rg ($(tail -n 1 "$last_error" | mask)). Provision with enableMalwareScanning=true first."

log "subscribing $app/$FUNCTION_NAME to topic $MALWARE_SCAN_TOPIC_NAME (deadline ${timeout}s)."
wait_for "function $FUNCTION_NAME to be listed on $app (the code deployment to sync)" function_listed
wait_for "a function key of $FUNCTION_NAME (the host to start)" function_key_ready

if [ -n "${AZURE_FUNCTION_URL:-}" ] && command -v curl >/dev/null 2>&1; then
    if curl --silent --show-error --fail --max-time 60 --output /dev/null "$AZURE_FUNCTION_URL/health" 2>"$work/warmup"; then
        log "app answered GET /health."
    else
        log "GET /health did not answer yet ($(tail -n 1 "$work/warmup")); Event Grid's handshake will be retried."
    fi
fi

attempt=0
while :; do
    attempt=$((attempt + 1))
    log "attempt $attempt: deploying infra/scan-webhook.bicep (Event Grid validates the endpoint now)..."
    if az deployment group create --resource-group "$rg" --name "$DEPLOYMENT_NAME" \
        --template-file "$template" \
        --parameters "topicName=$MALWARE_SCAN_TOPIC_NAME" "functionAppName=$app" \
            "storageAccountName=$AZURE_STORAGE_ACCOUNT_NAME" \
            "deadLetterContainerName=$MALWARE_SCAN_DEAD_LETTER_CONTAINER" \
            "entraTenantId=$MALWARE_SCAN_WEBHOOK_TENANT_ID" \
            "entraAudience=$MALWARE_SCAN_WEBHOOK_AUDIENCE" \
        --only-show-errors --output none >"$work/deploy.out" 2>"$last_error"; then
        state=$(az eventgrid event-subscription show --name "$SUBSCRIPTION_NAME" \
            --source-resource-id "$topic_id" --query provisioningState --output tsv 2>"$last_error") || state=unknown
        if [ "$state" = Succeeded ]; then
            log "done: $SUBSCRIPTION_NAME delivers scan results to $app/$FUNCTION_NAME (function key + Entra ID token for $MALWARE_SCAN_WEBHOOK_AUDIENCE); undeliverable results are dead-lettered to container $MALWARE_SCAN_DEAD_LETTER_CONTAINER of $AZURE_STORAGE_ACCOUNT_NAME."
            exit 0
        fi
        echo "subscription $SUBSCRIPTION_NAME is in state '$state', not Succeeded" >>"$last_error"
    fi
    log "attempt $attempt failed: $(tail -n 5 "$last_error" | mask)"
    left=$(seconds_left)
    if [ "$left" -le 0 ]; then
        fail 1 "gave up after ${timeout}s and $attempt attempts to create the subscription. Scanning stays enforced: uploads wait in UploadProcessing until a scan result is delivered. Fix the cause above and rerun this script (azd hooks run postdeploy, or rerun the workflow)."
    fi
    wait=$((poll * attempt))
    [ "$wait" -le 60 ] || wait=60
    [ "$wait" -le "$left" ] || wait=$left
    log "retrying in ${wait}s (${left}s left)."
    sleep "$wait"
done
