// The one storage account of an instance: the Functions host storage (AzureWebJobsStorage),
// the Flex Consumption deployment container, and the application's data
// (CorrespondenceStorage): blob containers, the publish queue with its poison queue, and the
// search index table.
// Only Entra ID (managed identity) authentication: shared keys are disabled.

@description('Storage account name: 3-24 lower-case letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Replication. ZRS keeps a copy in three zones of the region at little extra cost.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_ZRS'

@description('Days a deleted blob or container can be restored (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 14

@description('Blob container that Flex Consumption deploys the app package to.')
param deploymentContainerName string

// Names the application code uses (shared/ storage module). Keep in step with it.
var dataContainerNames = [
  'correspondences'
  'attachments'
  'attachment-records'
  'attachment-uploads'
]
var queueNames = [
  'correspondence-publish'
  'correspondence-publish-poison'
]
var tableNames = [
  'CorrespondenceRequests'
]
var containerNames = concat(dataContainerNames, [deploymentContainerName])

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  //checkov:skip=CKV_AZURE_206:Replication is the storageSkuName parameter: default ZRS (synchronous copies in three zones); choose Standard_GZRS or Standard_RAGZRS for geo-redundancy where data residency and cost allow.
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    //checkov:skip=CKV_AZURE_59:Flex Consumption without VNet integration reaches host storage over the public endpoint; every request still needs an Entra ID token (shared keys are off) and a data role.
    publicNetworkAccess: 'Enabled'
    //checkov:skip=CKV_AZURE_35:Default action Allow for the same reason (no VNet integration yet); access is by Entra ID and RBAC only, anonymous and key access are disabled.
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in containerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

// Staging blobs of direct uploads (attachment-uploads/): complete deletes its own, and the
// retention job those of abandoned uploads, but a still-valid upload URL may write one again
// afterwards (up to ATTACHMENT_UPLOAD_URL_MINUTES). Nothing reads them; this drops leftovers.
resource stagingCleanup 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-direct-upload-staging-blobs'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'attachment-uploads/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 8
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = 'https://${storage.name}.blob.${environment().suffixes.storage}/'
output queueEndpoint string = 'https://${storage.name}.queue.${environment().suffixes.storage}/'
output tableEndpoint string = 'https://${storage.name}.table.${environment().suffixes.storage}/'
