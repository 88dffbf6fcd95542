// The Event Grid subscription that delivers Defender scan results to the app's webhook function
// malware_scan_result. Not part of main.bicep: the function key is read from the deployed
// function, and Event Grid runs its validation handshake against the endpoint when the
// subscription is created or its endpoint changes, so this needs the code deployed and the host
// answering. infra/hooks/subscribe-scan-webhook.sh waits for that and then deploys this template
// (azd postdeploy hook, and the deploy workflow after publishing the code). Redeploying it is
// idempotent: a PUT of the same subscription, which also picks up a rotated function key.
//
// Delivery is authenticated twice: the function key in the endpoint URL (authLevel function),
// and an Entra ID bearer token that Event Grid obtains for the webhook's app registration
// (azureActiveDirectoryTenantId / azureActiveDirectoryApplicationIdOrUri on the WebHook
// destination). Managed-identity delivery (deliveryWithResourceIdentity) is documented for
// Service Bus, Event Hubs and Storage queues, not for webhooks, so it is used here only for
// dead-lettering to blob storage.

targetScope = 'resourceGroup'

@description('Event Grid custom topic that Defender for Storage publishes scan results to (main.bicep output MALWARE_SCAN_TOPIC_NAME).')
param topicName string

@description('Function app that hosts malware_scan_result (main.bicep output AZURE_FUNCTION_APP_NAME).')
param functionAppName string

@description('Storage account that holds the dead-letter container (main.bicep output AZURE_STORAGE_ACCOUNT_NAME).')
param storageAccountName string

@description('Dead-letter blob container (main.bicep output MALWARE_SCAN_DEAD_LETTER_CONTAINER).')
param deadLetterContainerName string

@description('Entra ID tenant of the webhook app registration.')
@minLength(1)
param entraTenantId string

@description('Application (client) id or application id URI of the webhook app registration: the audience of the token Event Grid sends.')
@minLength(1)
param entraAudience string

@description('Name of the webhook function (authLevel function).')
param functionName string = 'malware_scan_result'

@description('Route of the webhook function (host.json routePrefix is empty).')
param webhookRoute string = 'correspondence/api/v1/webhooks/malwarescanresults'

@description('Delivery attempts before a result is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes a result is retried before it is dead-lettered.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource scanResultFunction 'Microsoft.Web/sites/functions@2024-04-01' existing = {
  parent: app
  name: functionName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource subscription 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'malware-scan-results-to-api'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'WebHook'
      properties: {
        // The function key of the webhook (not a storage key); Event Grid keeps the URL
        // write-only and returns only endpointBaseUrl.
        endpointUrl: 'https://${app.properties.defaultHostName}/${webhookRoute}?code=${scanResultFunction.listKeys().default}'
        azureActiveDirectoryTenantId: entraTenantId
        azureActiveDirectoryApplicationIdOrUri: entraAudience
        minimumTlsVersionAllowed: '1.2'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Security.MalwareScanningResult'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    // Undeliverable results are written by the topic's system identity (Storage Blob Data
    // Contributor on this container only, modules/scan-dead-letter-access.bicep), not with a key.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output subscriptionName string = subscription.name
output topicId string = topic.id
