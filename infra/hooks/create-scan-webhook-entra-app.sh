#!/bin/sh
# One-time setup, per environment, by someone who may create app registrations in Microsoft
# Entra ID (Application Administrator, Cloud Application Administrator, or Application Developer
# with the right to grant app roles): the app registration whose token Event Grid presents to the
# scan-result webhook. It does what Microsoft's "Secure WebHook delivery with Microsoft Entra
# ID" script does, with the Azure CLI, and is safe to run again (it finds what exists):
#
#   1. the app registration for the webhook (display name below), with application id URI
#      api://<application id> and an app role AzureEventGridSecureWebhookSubscriber;
#   2. its service principal;
#   3. the service principal of Microsoft.EventGrid (the first-party app Event Grid delivers
#      as), created in the tenant if missing, assigned that role;
#   4. each principal that will create or update the event subscription (the "subscription
#      writer": you for azd, the workflow's identity for GitHub) assigned that role: Event Grid
#      refuses to create the subscription otherwise.
#
# Usage: sh infra/hooks/create-scan-webhook-entra-app.sh [WRITER_OBJECT_ID...]
#   Without arguments the signed-in principal is the writer. Give the object id of the deploy
#   workflow's service principal (and your own, if you also deploy with azd) to add both.
#   SCAN_WEBHOOK_APP_NAME sets the display name (default: altinn-correspondence-scan-webhook-
#   <AZURE_ENV_NAME>).
# Prints the application id: set it as MALWARE_SCAN_WEBHOOK_AUDIENCE (azd env set, or the
# GitHub environment variable) before provisioning with scanning on.
set -eu

# Microsoft.EventGrid's application id in the public cloud (Microsoft's script uses the same).
EVENT_GRID_APP_ID=4962773b-9cdb-44cf-a8bf-237846a00ab7
ROLE=AzureEventGridSecureWebhookSubscriber
GRAPH=https://graph.microsoft.com/v1.0

log() { printf '%s\n' "create-scan-webhook-entra-app: $*"; }
fail() { printf '%s\n' "create-scan-webhook-entra-app: ERROR: $*" >&2; exit 1; }

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is required."
az account show --query tenantId --output tsv >/dev/null 2>&1 || fail "sign in first: az login."
tenant=$(az account show --query tenantId --output tsv)
name=${SCAN_WEBHOOK_APP_NAME:-altinn-correspondence-scan-webhook-${AZURE_ENV_NAME:-default}}

new_uuid() {
    if [ -r /proc/sys/kernel/random/uuid ]; then cat /proc/sys/kernel/random/uuid
    elif command -v uuidgen >/dev/null 2>&1; then uuidgen | tr '[:upper:]' '[:lower:]'
    else python3 -c 'import uuid; print(uuid.uuid4())'; fi
}

# 1. The app registration.
app_id=$(az ad app list --display-name "$name" --query '[0].appId' --output tsv)
if [ -z "$app_id" ]; then
    log "creating app registration $name."
    app_id=$(az ad app create --display-name "$name" --sign-in-audience AzureADMyOrg --query appId --output tsv)
else
    log "app registration $name exists ($app_id)."
fi
app_object_id=$(az ad app show --id "$app_id" --query id --output tsv)
az ad app update --id "$app_id" --identifier-uris "api://$app_id"

role_id=$(az ad app show --id "$app_id" --query "appRoles[?value=='$ROLE'].id | [0]" --output tsv)
if [ -z "$role_id" ]; then
    role_id=$(new_uuid)
    log "adding app role $ROLE."
    roles=$(az ad app show --id "$app_id" --query appRoles --output json)
    body=$(printf '%s' "$roles" | python3 -c '
import json, sys
roles = json.load(sys.stdin) or []
roles.append({"allowedMemberTypes": ["Application", "User"], "description": "Event Grid delivers to this webhook",
              "displayName": sys.argv[1], "id": sys.argv[2], "isEnabled": True, "value": sys.argv[1]})
print(json.dumps({"appRoles": roles}))' "$ROLE" "$role_id")
    az rest --method patch --url "$GRAPH/applications/$app_object_id" \
        --headers 'Content-Type=application/json' --body "$body" --output none
fi

# 2. Its service principal.
webhook_sp=$(az ad sp list --filter "appId eq '$app_id'" --query '[0].id' --output tsv)
if [ -z "$webhook_sp" ]; then
    log "creating the service principal of $name."
    webhook_sp=$(az ad sp create --id "$app_id" --query id --output tsv)
fi

# 3. Event Grid's service principal.
event_grid_sp=$(az ad sp list --filter "appId eq '$EVENT_GRID_APP_ID'" --query '[0].id' --output tsv)
if [ -z "$event_grid_sp" ]; then
    log "creating the Microsoft.EventGrid service principal in this tenant."
    event_grid_sp=$(az ad sp create --id "$EVENT_GRID_APP_ID" --query id --output tsv)
fi

assign() {  # principal object id, what it is
    existing=$(az rest --method get \
        --url "$GRAPH/servicePrincipals/$webhook_sp/appRoleAssignedTo?\$top=999" \
        --query "value[?principalId=='$1' && appRoleId=='$role_id'].id | [0]" --output tsv)
    if [ -n "$existing" ]; then
        log "$2 ($1) already has $ROLE."
        return 0
    fi
    log "assigning $ROLE to $2 ($1)."
    az rest --method post --url "$GRAPH/servicePrincipals/$webhook_sp/appRoleAssignedTo" \
        --headers 'Content-Type=application/json' \
        --body "{\"principalId\": \"$1\", \"resourceId\": \"$webhook_sp\", \"appRoleId\": \"$role_id\"}" \
        --output none
}

assign "$event_grid_sp" "Microsoft.EventGrid"

# 4. The subscription writers.
if [ "$#" -eq 0 ]; then
    kind=$(az account show --query user.type --output tsv)
    if [ "$kind" = user ]; then
        set -- "$(az ad signed-in-user show --query id --output tsv)"
    else
        set -- "$(az ad sp show --id "$(az account show --query user.name --output tsv)" --query id --output tsv)"
    fi
fi
for writer in "$@"; do
    assign "$writer" "subscription writer"
done

log "done. Tenant $tenant, webhook application id $app_id. Set, before provisioning with scanning on:"
log "  azd env set MALWARE_SCAN_WEBHOOK_AUDIENCE $app_id"
log "  (GitHub: environment variable MALWARE_SCAN_WEBHOOK_AUDIENCE=$app_id)"
