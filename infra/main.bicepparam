// The one parameters file, for every route: azd (`azd up` / `azd provision` compile it with the
// azd environment's values as environment variables; azd prefers <module>.bicepparam over any
// JSON parameters file), `az deployment group create --parameters infra/main.bicepparam`, and
// the deploy workflow (which sets the variables from the GitHub environment).
// Every other parameter keeps the default documented in main.bicep and docs/deploy.md.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'corr-dev')

// test = tt02 + test.maskinporten.no; production = platform.altinn.no + maskinporten.no.
param altinnEnvironment = readEnvironmentVariable('ALTINN_ENVIRONMENT', 'test')

param storageSkuName = readEnvironmentVariable('STORAGE_SKU_NAME', 'Standard_ZRS')

// Flex Consumption scale settings.
param instanceMemoryMB = int(readEnvironmentVariable('INSTANCE_MEMORY_MB', '2048'))
param maximumInstanceCount = int(readEnvironmentVariable('MAXIMUM_INSTANCE_COUNT', '100'))
param httpPerInstanceConcurrency = int(readEnvironmentVariable('HTTP_PER_INSTANCE_CONCURRENCY', '16'))

// Malware scanning: one switch. When true, MALWARE_SCAN_MODE is 'defender' in every deployment
// and infra/hooks/subscribe-scan-webhook.sh subscribes the webhook after the code is deployed.
// The audience is the webhook's Entra app registration (infra/hooks/create-scan-webhook-entra-app.sh).
param enableMalwareScanning = bool(readEnvironmentVariable('ENABLE_MALWARE_SCANNING', 'false'))
param malwareScanWebhookEntraAudience = readEnvironmentVariable('MALWARE_SCAN_WEBHOOK_AUDIENCE', '')
param malwareScanWebhookEntraTenantId = readEnvironmentVariable('MALWARE_SCAN_WEBHOOK_TENANT_ID', '')
param malwareScanAlertEmail = readEnvironmentVariable('MALWARE_SCAN_ALERT_EMAIL', '')
