// Flex Consumption plan and the function app (Python, classic v1 programming model).
// Every storage connection is identity-based: service URIs + the user-assigned identity's
// client id. No connection string, account key or SAS appears in any setting.

@description('Function app name (also the host name prefix).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the resources; the app also gets azd-service-name.')
param tags object

@description('azd service name in azure.yaml; azd finds the app by this tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Blob service endpoint of the storage account, with a trailing slash.')
param blobEndpoint string

@description('Queue service endpoint of the storage account, with a trailing slash.')
param queueEndpoint string

@description('Table service endpoint of the storage account, with a trailing slash.')
param tableEndpoint string

@description('Blob container for the deployment package.')
param deploymentContainerName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Python version of the Functions runtime; must equal the version CI tests.')
@allowed([
  '3.11'
])
param pythonVersion string

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Concurrent HTTP requests per instance before the plan scales out.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Zone-redundant plan (only in regions where Flex Consumption supports it).')
param zoneRedundant bool = false

@description('Trusted Altinn platform token issuer (exact iss).')
param altinnTokenIssuer string

@description('JWKS URL of the Altinn platform token issuer.')
param altinnTokenJwks string

@description('Trusted Maskinporten issuer (exact iss).')
param maskinportenIssuer string

@description('JWKS URL of Maskinporten.')
param maskinportenJwks string

@description('Base URL of the Altinn Resource Registry API.')
param resourceRegistryUrl string

@description('Entra ID tenant (GUID) whose access tokens the API trusts as a third issuer. Empty = Entra ID tokens are not accepted.')
param entraTenantId string = ''

@description('Override: exact Entra ID issuers (space-separated). Empty = the tenant\'s v1 and v2 issuers.')
param entraIssuer string = ''

@description('Override: Entra ID JWKS URL. Empty = the tenant\'s key set.')
param entraJwks string = ''

@description('Accepted audiences of Entra ID tokens (the API app\'s application id URI and/or client id). Required when Entra ID is trusted.')
param entraAudience string = ''

@description('App role (or delegated scope) that grants correspondence write access.')
param entraWriteRole string = 'Correspondence.Write'

@description('Client application id (azp/appid) or object id -> 9-digit organisation number of the Entra ID callers.')
param entraOrganizations object = {}

@description('Malware scan mode of the app: none, or defender (wait for Defender scan results).')
@allowed([
  'none'
  'defender'
])
param malwareScanMode string = 'none'

@description('Resource id of the storage account whose Defender scan results the webhook accepts (the event\'s topic must equal it).')
param storageAccountId string

@description('Resource id of the Event Grid topic Defender publishes scan results to; also accepted as the event\'s topic (Event Grid fills topic in itself). Empty when malware scanning is off.')
param scanTopicId string = ''

@description('Entra ID tenant whose tokens Event Grid presents to the scan-result webhook. Empty when malware scanning is off.')
param scanWebhookEntraTenantId string = ''

@description('Audience (application id or URI) of the tokens Event Grid presents to the scan-result webhook. Empty when malware scanning is off.')
param scanWebhookEntraAudience string = ''

@description('Minimum attachment expirationInDays accepted.')
@minValue(1)
param attachmentMinExpirationDays int = 14

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    //checkov:skip=CKV_AZURE_225:Zone redundancy is a parameter (zoneRedundant), off by default because Flex Consumption supports it only in some regions.
    zoneRedundant: zoneRedundant
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  //checkov:skip=CKV_AZURE_212:Flex Consumption scales from zero on demand; always-ready instances would be billed at idle. Failover comes from the platform adding instances.
  //checkov:skip=CKV_AZURE_213:No siteConfig.healthCheckPath: App Service Health check takes unhealthy instances of a plan out of rotation, whereas this plan scales from zero and the platform manages its instances; GET /health is called after every deployment instead (the deploy workflow smoke test and infra/hooks/subscribe-scan-webhook.sh).
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    //checkov:skip=CKV_AZURE_17:Callers authenticate with bearer tokens (Maskinporten/Altinn) as in the upstream API; Event Grid cannot present client certificates to the scan-result webhook.
    clientCertEnabled: false
    //checkov:skip=CKV_AZURE_222:A public API by design: service owners call it from the internet with bearer tokens, and Event Grid delivers scan results to it.
    publicNetworkAccess: 'Enabled'
    // No ftpsState: the Functions app-settings reference lists it among the Flex Consumption
    // deprecations, and Azure has answered 400 naming Site.SiteConfig.FtpsState. FTP publishing
    // with basic-auth credentials is off through the 'ftp' basicPublishingCredentialsPolicies.
    //checkov:skip=CKV_AZURE_78:siteConfig.ftpsState cannot be set on Flex Consumption (a deprecated property there; Azure rejects it with 400); FTP basic-auth publishing is disabled by the basicPublishingCredentialsPolicies 'ftp' resource instead.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      // Flex Consumption sets the runtime itself: FUNCTIONS_WORKER_RUNTIME and
      // FUNCTIONS_EXTENSION_VERSION must not be set. Settings are part of the site so the host
      // never starts without its storage settings.
      appSettings: [
        // Host storage (triggers, keys, leases), identity-based.
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: queueEndpoint
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: tableEndpoint
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        // Application data (containers and the publish queue), identity-based.
        {
          name: 'CorrespondenceStorage__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'CorrespondenceStorage__queueServiceUri'
          value: queueEndpoint
        }
        {
          // The state of each request (table CorrespondenceRequests, shared/storage/request_states.py).
          name: 'CorrespondenceStorage__tableServiceUri'
          value: tableEndpoint
        }
        {
          name: 'CorrespondenceStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'CorrespondenceStorage__clientId'
          value: identityClientId
        }
        // Telemetry with Entra ID (App Insights local auth is disabled).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // Tokens and integrations.
        {
          name: 'ALTINN_TOKEN_ISSUER'
          value: altinnTokenIssuer
        }
        {
          name: 'ALTINN_TOKEN_JWKS'
          value: altinnTokenJwks
        }
        {
          name: 'MASKINPORTEN_ISSUER'
          value: maskinportenIssuer
        }
        {
          name: 'MASKINPORTEN_JWKS'
          value: maskinportenJwks
        }
        {
          name: 'RESOURCE_REGISTRY'
          value: resourceRegistryUrl
        }
        // Entra ID access tokens (optional third issuer; empty tenant and issuer = off).
        {
          name: 'ENTRA_TENANT_ID'
          value: entraTenantId
        }
        {
          name: 'ENTRA_ISSUER'
          value: entraIssuer
        }
        {
          name: 'ENTRA_JWKS'
          value: entraJwks
        }
        {
          name: 'ENTRA_AUDIENCE'
          value: entraAudience
        }
        {
          name: 'ENTRA_WRITE_ROLE'
          value: entraWriteRole
        }
        {
          name: 'ENTRA_ORGANIZATIONS'
          value: string(entraOrganizations)
        }
        // Behaviour.
        {
          name: 'AZURE_FUNCTIONS_ENVIRONMENT'
          value: 'Production'
        }
        {
          name: 'MALWARE_SCAN_MODE'
          value: malwareScanMode
        }
        // Scan results are only accepted for this storage account (the event's topic).
        {
          name: 'MALWARE_SCAN_STORAGE_ACCOUNT_ID'
          value: storageAccountId
        }
        {
          name: 'MALWARE_SCAN_TOPIC_ID'
          value: scanTopicId
        }
        // The bearer token Event Grid sends with each scan result (Entra ID webhook delivery).
        {
          name: 'MALWARE_SCAN_WEBHOOK_TENANT_ID'
          value: scanWebhookEntraTenantId
        }
        {
          name: 'MALWARE_SCAN_WEBHOOK_AUDIENCE'
          value: scanWebhookEntraAudience
        }
        {
          name: 'ATTACHMENT_MIN_EXPIRATION_DAYS'
          value: string(attachmentMinExpirationDays)
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// No basic-auth (publishing profile) deployments: azd, Core Tools and the deploy workflow
// deploy with Entra ID tokens.
resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output id string = app.id
output defaultHostName string = app.properties.defaultHostName
