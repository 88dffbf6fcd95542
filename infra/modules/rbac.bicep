// Role assignments of the function app's managed identity, each at the narrowest scope that
// works: the storage account (host storage, deployment package and app data share it) and the
// Application Insights component. Nothing at resource group or subscription scope. (The scan
// topic's own identity gets its one role in scan-dead-letter-access.bicep.)
// Names are guid(scope, principal, role) so a redeploy updates instead of duplicating.
//
// Storage Blob Data Contributor is deliberately not assigned: the host needs Storage Blob Data
// Owner on this account (AzureWebJobsStorage), and Owner already grants every data action of
// Contributor on all containers, so a second assignment would add nothing. If the app data
// moves to its own account, give that account Blob Data Contributor and keep Owner on the host
// account only.

@description('Storage account that holds host storage, the deployment container and app data.')
param storageAccountName string

@description('Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Principal (object) id of the function app\'s user-assigned managed identity.')
param principalId string

// Built-in role definition ids.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageBlobDelegator = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Host storage (AzureWebJobsStorage): host keys, leases, timer state; the Flex deployment
// package; and the app's containers (correspondences, attachments, attachment-records).
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Functions host storage, deployment package and correspondence data (blobs)'
  }
}

// The publish queue and its poison queue (send, receive, delete; the host moves failed
// messages to the poison queue).
resource queueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'correspondence-publish queue and its poison queue'
  }
}

// Tables: the state of each request the application keeps (CorrespondenceRequests, through
// CorrespondenceStorage__tableServiceUri), and the diagnostic events the Functions host writes to
// Table storage in AzureWebJobsStorage (event AZFD0003 when it cannot).
resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CorrespondenceRequests table (request state, search) and Functions host diagnostic events'
  }
}

// User-delegation SAS for one blob (POST .../attachment/{id}/upload/url): the app asks for a
// user delegation key (blobServices/generateUserDelegationKey/action) and signs the SAS with it;
// shared keys stay disabled. Get User Delegation Key acts on the whole account, so the storage
// account is the narrowest scope the action can be granted at (Get User Delegation Key, REST
// reference). Blob Data Owner above includes the action too; this assignment states the need
// explicitly and keeps it if Owner is ever narrowed to the host containers.
resource blobDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDelegator)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDelegator)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'User delegation key for one-blob upload SAS (shared keys are disabled)'
  }
}

// Entra ID (AAD) ingestion into Application Insights, which has local auth disabled.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Telemetry ingestion with Entra ID (local auth is disabled)'
  }
}
