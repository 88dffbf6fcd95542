// Parameters for `az deployment group create --parameters infra/main.bicepparam`.
// Values come from environment variables so one file serves every environment: the deploy
// workflow sets them from the GitHub environment's variables; locally, export them first.
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

// Malware scanning: stage 1 (Defender + topic), then stage 2 (webhook subscription) once the
// function code is deployed. See docs/deploy.md.
param enableMalwareScanning = bool(readEnvironmentVariable('ENABLE_MALWARE_SCANNING', 'false'))
param malwareScanWebhook = bool(readEnvironmentVariable('MALWARE_SCAN_WEBHOOK', 'false'))
