// The scan-result topic's system-assigned identity may write dead-lettered results to one blob
// container: Storage Blob Data Contributor scoped to that container (the role Event Grid
// documents for dead-lettering with a managed identity), nothing on the rest of the account.
// A module of its own so that the role assignment name can use the principal id (a module
// parameter is known when the module starts; the topic's identity is not known before the topic
// exists).

@description('Storage account that holds the dead-letter container.')
param storageAccountName string

@description('Dead-letter blob container.')
param containerName string

@description('Principal (object) id of the scan-result topic\'s system-assigned identity.')
param principalId string

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: containerName
}

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, storageBlobDataContributor)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Event Grid dead-lettering of undeliverable malware scan results'
  }
}
