// Static website hosting ($web, index and error documents) is a data-plane setting of the Blob service,
// not an ARM property. This deployment script turns it on with the Azure CLI, signed in as its own
// user-assigned identity (no account key). The same command by hand is in infra/README.md.

param location string
param storageAccountName string
param namePrefix string
param tags object = {}

@description('Azure CLI image version of the deployment script.')
param azCliVersion string = '2.67.0'

param indexDocument string = 'index.html'
param errorDocument string = '404.html'

var storageAccountContributor = '17d1049b-9a84-46fb-8f53-869881c3d3ab'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource scriptIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${namePrefix}-website'
  location: location
  tags: tags
}

resource accountRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, scriptIdentity.id, storageAccountContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageAccountContributor)
    principalId: scriptIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource blobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, scriptIdentity.id, storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: scriptIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource enableStaticWebsite 'Microsoft.Resources/deploymentScripts@2023-08-01' = {
  name: 'enable-static-website'
  location: location
  tags: tags
  kind: 'AzureCLI'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${scriptIdentity.id}': {}
    }
  }
  properties: {
    azCliVersion: azCliVersion
    retentionInterval: 'PT1H'
    cleanupPreference: 'OnSuccess'
    timeout: 'PT15M'
    environmentVariables: [
      {
        name: 'ACCOUNT'
        value: storageAccountName
      }
      {
        name: 'INDEX_DOCUMENT'
        value: indexDocument
      }
      {
        name: 'ERROR_DOCUMENT'
        value: errorDocument
      }
    ]
    scriptContent: loadTextContent('enable-static-website.sh')
  }
  dependsOn: [
    accountRole
    blobRole
  ]
}

output staticWebsite object = enableStaticWebsite.properties.outputs
