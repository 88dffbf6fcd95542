// Altinn Correspondence (sender side) on Azure Functions Flex Consumption + Azure Storage.
// Resource-group scope: `az deployment group create` or `azd up` (azd asks for the group).
// One module per concern; see docs/deploy.md for the parameters and the malware-scanning setup.
// The scan-result webhook subscription is not part of this template: it can only be created
// once the function code is deployed, so infra/hooks/subscribe-scan-webhook.sh deploys
// infra/scan-webhook.bicep after every code deployment (azd postdeploy hook, deploy workflow).

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Environment name (the azd environment). Tags every resource and seeds the unique resource names.')
param environmentName string

@description('Azure region. Defaults to the resource group\'s region.')
param location string = resourceGroup().location

@description('Which Altinn/Maskinporten environment to trust: test (tt02 + test.maskinporten.no) or production.')
@allowed([
  'test'
  'production'
])
param altinnEnvironment string = 'test'

@description('Override: trusted Altinn platform token issuer. Empty = the default of altinnEnvironment.')
param altinnTokenIssuer string = ''

@description('Override: JWKS URL of the Altinn platform token issuer. Empty = the default of altinnEnvironment.')
param altinnTokenJwks string = ''

@description('Override: trusted Maskinporten issuer. Empty = the default of altinnEnvironment.')
param maskinportenIssuer string = ''

@description('Override: Maskinporten JWKS URL. Empty = the default of altinnEnvironment.')
param maskinportenJwks string = ''

@description('Override: base URL of the Altinn Resource Registry API. Empty = the default of altinnEnvironment.')
param resourceRegistryUrl string = ''

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSkuName string = 'Standard_ZRS'

@description('Days deleted blobs and containers stay restorable.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 14

@description('Memory per Flex Consumption instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to (also caps cost under load).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Zone-redundant Flex Consumption plan (only in regions that support it).')
param zoneRedundant bool = false

@description('Concurrent HTTP requests per instance before scaling out. 16 until the benchmarks (bench/) refine it.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Minimum attachment expirationInDays the API accepts (upstream: 14 in production).')
@minValue(1)
@maxValue(365)
param attachmentMinExpirationDays int = 14

@description('Optional third token issuer: Entra ID tenant (GUID) whose access tokens the API trusts. Empty = off.')
param entraTenantId string = ''

@description('Accepted audiences of Entra ID tokens (application id URI and/or client id). Required when entraTenantId is set.')
param entraAudience string = ''

@description('App role (or scope) that grants write access to Entra ID callers.')
param entraWriteRole string = 'Correspondence.Write'

@description('Entra ID caller (client app id or object id) -> 9-digit organisation number.')
param entraOrganizations object = {}

@description('Days to keep logs in Log Analytics.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Malware scanning: Defender for Storage on-upload scanning, the scan-result Event Grid topic, and MALWARE_SCAN_MODE=defender (uploads wait for a clean result). The one switch: it stays the same through every deployment.')
param enableMalwareScanning bool = false

@description('Defender malware scanning cap in GB per month (-1 = no cap).')
@minValue(-1)
param malwareScanCapGBPerMonth int = 1000

@description('Entra ID application (client) id or application id URI that Event Grid gets a token for when it delivers scan results (the webhook app registration; infra/hooks/create-scan-webhook-entra-app.sh creates it). Required when enableMalwareScanning is true.')
param malwareScanWebhookEntraAudience string = ''

@description('Entra ID tenant of that application. Empty = the tenant of this deployment.')
param malwareScanWebhookEntraTenantId string = ''

@description('E-mail address notified when a scan result is dead-lettered or dropped. Empty = the alerts still fire and show in Azure Monitor, nobody is e-mailed.')
param malwareScanAlertEmail string = ''

// The Python version of the Functions runtime. CI (.github/workflows/ci.yml) tests the same one.
var pythonVersion = '3.11'

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
  application: 'altinn-correspondence-functions'
}
var functionAppName = 'func-corr-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

// Documented defaults per Altinn environment (override any of them with the parameters above).
var altinnDefaults = {
  test: {
    altinnTokenIssuer: 'https://platform.tt02.altinn.no/authentication/api/v1/openid/'
    altinnTokenJwks: 'https://platform.tt02.altinn.no/authentication/api/v1/openid/.well-known/openid-configuration/jwks'
    maskinportenIssuer: 'https://test.maskinporten.no/'
    maskinportenJwks: 'https://test.maskinporten.no/jwk'
    resourceRegistryUrl: 'https://platform.tt02.altinn.no/resourceregistry/api/v1'
  }
  production: {
    altinnTokenIssuer: 'https://platform.altinn.no/authentication/api/v1/openid/'
    altinnTokenJwks: 'https://platform.altinn.no/authentication/api/v1/openid/.well-known/openid-configuration/jwks'
    maskinportenIssuer: 'https://maskinporten.no/'
    maskinportenJwks: 'https://maskinporten.no/jwk'
    resourceRegistryUrl: 'https://platform.altinn.no/resourceregistry/api/v1'
  }
}
var trust = altinnDefaults[altinnEnvironment]

// One deploy-time decision: once scanning is on, the app waits for a clean Defender result before
// it publishes an upload, in every deployment, also while the webhook subscription is being
// created or updated (uploads then stay UploadProcessing; none is published unscanned).
var malwareScanMode = enableMalwareScanning ? 'defender' : 'none'
var scanTopicName = 'evgt-corr-scan-${resourceToken}'
var scanDeadLetterContainerName = 'malware-scan-dead-letters'
var scanWebhookEntraTenantId = empty(malwareScanWebhookEntraTenantId) ? tenant().tenantId : malwareScanWebhookEntraTenantId

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-corr-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-corr-${resourceToken}'
    applicationInsightsName: 'appi-corr-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'stcorr${resourceToken}'
    location: location
    tags: tags
    skuName: storageSkuName
    softDeleteRetentionDays: softDeleteRetentionDays
    deploymentContainerName: deploymentContainerName
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: functionAppName
    planName: 'plan-corr-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    pythonVersion: pythonVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    zoneRedundant: zoneRedundant
    altinnTokenIssuer: empty(altinnTokenIssuer) ? trust.altinnTokenIssuer : altinnTokenIssuer
    altinnTokenJwks: empty(altinnTokenJwks) ? trust.altinnTokenJwks : altinnTokenJwks
    maskinportenIssuer: empty(maskinportenIssuer) ? trust.maskinportenIssuer : maskinportenIssuer
    maskinportenJwks: empty(maskinportenJwks) ? trust.maskinportenJwks : maskinportenJwks
    resourceRegistryUrl: empty(resourceRegistryUrl) ? trust.resourceRegistryUrl : resourceRegistryUrl
    malwareScanMode: malwareScanMode
    storageAccountId: storage.outputs.id
    scanTopicId: enableMalwareScanning ? resourceId('Microsoft.EventGrid/topics', scanTopicName) : ''
    scanWebhookEntraTenantId: enableMalwareScanning ? scanWebhookEntraTenantId : ''
    scanWebhookEntraAudience: enableMalwareScanning ? malwareScanWebhookEntraAudience : ''
    attachmentMinExpirationDays: attachmentMinExpirationDays
    entraTenantId: entraTenantId
    entraAudience: entraAudience
    entraWriteRole: entraWriteRole
    entraOrganizations: entraOrganizations
  }
  // The host must be able to reach its storage as soon as it starts.
  dependsOn: [
    rbac
  ]
}

module malwareScanning 'modules/malware-scanning.bicep' = if (enableMalwareScanning) {
  name: 'malware-scanning'
  params: {
    topicName: scanTopicName
    storageAccountName: storage.outputs.name
    deadLetterContainerName: scanDeadLetterContainerName
    location: location
    tags: tags
    capGBPerMonth: malwareScanCapGBPerMonth
    alertEmail: malwareScanAlertEmail
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MALWARE_SCAN_MODE string = malwareScanMode
// Read by infra/hooks/subscribe-scan-webhook.sh (azd passes outputs to hooks; the deploy
// workflow exports them). The topic and container are empty when malware scanning is off. The
// two Entra values echo their parameters unchanged (azd writes outputs back into the
// environment, so an output must never blank a value the operator set).
output AZURE_STORAGE_ACCOUNT_ID string = storage.outputs.id
output MALWARE_SCAN_TOPIC_NAME string = enableMalwareScanning ? scanTopicName : ''
output MALWARE_SCAN_DEAD_LETTER_CONTAINER string = enableMalwareScanning ? scanDeadLetterContainerName : ''
output MALWARE_SCAN_WEBHOOK_TENANT_ID string = scanWebhookEntraTenantId
output MALWARE_SCAN_WEBHOOK_AUDIENCE string = malwareScanWebhookEntraAudience
