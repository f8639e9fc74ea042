// Prow on Azure Functions: everything the app needs in one resource group.
//
//   az deployment group create -g <rg> -f infra/main.bicep -p namePrefix=<prefix> [githubAppId=<id>] [deployAks=true]
//
// No storage account key and no keyed connection string is stored anywhere: the app, the Functions host
// and the deployment use one user-assigned managed identity with data-plane roles; secrets live in Key Vault
// and reach the app as Key Vault references. infra/README.md documents parameters, outputs and the walk
// from `az login` to a delivered webhook.

targetScope = 'resourceGroup'

@description('Azure region (must offer Flex Consumption: `az functionapp list-flexconsumption-locations`).')
param location string = resourceGroup().location

@description('Short prefix of every resource name (letters and digits, 3-11 characters).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'prow'

@description('Python version of the Functions runtime (the app is tested on 3.11).')
@allowed([
  '3.11'
  '3.12'
])
param pythonVersion string = '3.11'

@description('Always-ready instances of the `http` group (hook and plugin_help), so that a webhook after an idle period is answered inside GitHub\'s 10 s deadline. 0 allows scale to zero.')
@minValue(0)
@maxValue(10)
param httpAlwaysReadyInstances int = 1

@description('Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Blob containers that receive job artifacts: the container names of your jobs\' gcs_configuration.bucket values (gs://x, s3://x and x all mean container x).')
param artifactContainers array = [
  'prow-artifacts'
]

@description('Anyone may read job artifacts (as with a public Prow GCS bucket), so the dashboard can show logs without credentials. Set false for private repositories.')
param publicArtifacts bool = true

@description('Days after which artifacts (logs, started.json, finished.json) are deleted.')
@minValue(1)
param artifactRetentionDays int = 90

@description('Days after which raw webhook deliveries (container `webhooks`) are deleted.')
@minValue(1)
param deliveryRetentionDays int = 14

@description('Origins besides the dashboard\'s own static website that may read blobs from a browser (CORS).')
param extraDashboardOrigins array = []

@description('Prow --config-path: a blob in the app storage (blob://<container>/<name>) or a path in the deployed package.')
param configPath string = 'blob://config/config.yaml'

@description('Prow --job-config-path: a blob prefix or a directory in the package. Empty: no separate job files.')
param jobConfigPath string = 'blob://config/jobs'

@description('Prow --plugin-config.')
param pluginConfigPath string = 'blob://config/plugins.yaml'

@description('GitHub API base URL (GitHub Enterprise: https://<host>/api/v3).')
param githubApiUrl string = 'https://api.github.com'

@description('GitHub App id. Empty: the app authenticates with a bot token (Key Vault secret `github-token`); set: with the App key (secret `github-app-private-key`).')
param githubAppId string = ''

@description('Content of the Prow hmac secret file. Empty: set Key Vault secret `hmac-secret` yourself after the deployment.')
@secure()
param hmacSecret string = ''

@description('GitHub bot token. Empty: set Key Vault secret `github-token` yourself (token mode only).')
@secure()
param githubToken string = ''

@description('GitHub App private key (PEM). Empty: set Key Vault secret `github-app-private-key` yourself (App mode only).')
@secure()
param githubAppPrivateKey string = ''

@description('Path of a kubeconfig in the deployed package whose contexts are the build clusters (PROW_KUBECONFIG). Empty: no build cluster configured yet.')
param kubeconfigPath string = ''

@description('Build clusters reached with Entra ID tokens (PROW_AKS_CLUSTERS JSON: {"<alias>": {"server": "https://..."}}). Ignored when deployAks is true: the new cluster becomes `default`.')
param aksClusters string = ''

@description('Client id of the identity the artifact uploaders in job pods use (workload identity). Ignored when deployAks is true: the new cluster\'s uploader identity is used.')
param uploaderClientId string = ''

@description('Object id of the person or group that operates the deployment: may set Key Vault secrets (Key Vault Secrets Officer) and upload config and the dashboard (Storage Blob Data Contributor on the data account). Empty: assign these yourself.')
param operatorObjectId string = ''

@description('Enable the static website ($web, index.html and 404.html) with a deployment script. False: run the command in infra/README.md.')
param enableStaticWebsite bool = true

@description('Create an AKS build cluster with workload identity and a separate node pool for untrusted jobs.')
param deployAks bool = false

@description('Log Analytics retention in days.')
@minValue(30)
param logRetentionDays int = 30

param tags object = {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, namePrefix))
var prefix = toLower(namePrefix)
var appName = 'func-${prefix}-${token}'
var dataAccountName = take('st${prefix}data${token}', 24)
var hostAccountName = take('st${prefix}host${token}', 24)
var keyVaultName = take('kv-${prefix}-${token}', 24)
var deploymentContainerName = 'app-package'
var useGitHubApp = !empty(githubAppId)

// Storage names the code uses (shared/storage.py, shared/github/etag_cache.py; tests/infra checks them).
var queueNames = [
  'webhook-events'
  'webhook-events-poison'
  'prowjobs'
  'prowjobs-poison'
]
var tableNames = [
  'prowjobs'
  'deliveries'
  'githubcache'
  'tide'
  'statusreconciler'
]
var privateContainers = [
  'webhooks'
  'config'
  'githubcache'
]

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------------------------------------------
// Identity and monitoring

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${prefix}-app-${token}'
  location: location
  tags: tags
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${prefix}-${token}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${prefix}-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Ingestion only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below), so the
    // instrumentation key in the connection string is not a credential.
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------------------------
// Storage: the app's data (PROW_STORAGE) and the Functions host's own (AzureWebJobsStorage, packages)

resource dataStorage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: dataAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: publicArtifacts
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource dataBlobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: dataStorage
  name: 'default'
  properties: {
    cors: {
      corsRules: [
        {
          // The dashboard (static website of this account) reads artifacts and job data straight from Blob.
          allowedOrigins: concat([
            substring(dataStorage.properties.primaryEndpoints.web, 0, length(dataStorage.properties.primaryEndpoints.web) - 1)
          ], extraDashboardOrigins)
          allowedMethods: [
            'GET'
            'HEAD'
            'OPTIONS'
          ]
          allowedHeaders: [
            '*'
          ]
          exposedHeaders: [
            'ETag'
            'Content-Length'
            'Content-Type'
            'Last-Modified'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource dataPrivateContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [for name in privateContainers: {
  parent: dataBlobService
  name: name
  properties: {
    publicAccess: 'None'
  }
}]

resource artifactContainerResources 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [for name in artifactContainers: {
  parent: dataBlobService
  name: name
  properties: {
    // Container (read and list): the dashboard's job page lists a run's artifacts, as Deck lists a public bucket.
    publicAccess: publicArtifacts ? 'Container' : 'None'
  }
}]

resource dataQueueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: dataStorage
  name: 'default'
}

resource dataQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [for name in queueNames: {
  parent: dataQueueService
  name: name
}]

resource dataTableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: dataStorage
  name: 'default'
}

resource dataTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = [for name in tableNames: {
  parent: dataTableService
  name: name
}]

resource dataLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: dataStorage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'artifact-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
                'appendBlob'
              ]
              prefixMatch: [for name in artifactContainers: '${name}/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: artifactRetentionDays
                }
              }
            }
          }
        }
        {
          name: 'raw-delivery-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'webhooks/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: deliveryRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    artifactContainerResources
    dataPrivateContainers
  ]
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: hostAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: hostStorage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: hostBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// ---------------------------------------------------------------------------------------------------
// Key Vault: the webhook secret and the GitHub credential, read by the app through Key Vault references

resource keyVault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource hmacSecretResource 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(hmacSecret)) {
  parent: keyVault
  name: 'hmac-secret'
  properties: {
    value: hmacSecret
    contentType: 'text/plain'
  }
}

resource githubTokenResource 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!useGitHubApp && !empty(githubToken)) {
  parent: keyVault
  name: 'github-token'
  properties: {
    value: githubToken
    contentType: 'text/plain'
  }
}

resource githubAppKeyResource 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (useGitHubApp && !empty(githubAppPrivateKey)) {
  parent: keyVault
  name: 'github-app-private-key'
  properties: {
    value: githubAppPrivateKey
    contentType: 'application/x-pem-file'
  }
}

// ---------------------------------------------------------------------------------------------------
// Role assignments of the app's identity

resource dataBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, appIdentity.id, roles.storageBlobDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource dataQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, appIdentity.id, roles.storageQueueDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource dataTableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, appIdentity.id, roles.storageTableDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The host keeps leases, timer schedules and the deployment package in blobs (Blob Data Owner, as the
// Functions docs require for AzureWebJobsStorage), and uses queues for its own bookkeeping.
resource hostBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appIdentity.id, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appIdentity.id, roles.storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostTableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appIdentity.id, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, appIdentity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorSecretsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorObjectId)) {
  name: guid(keyVault.id, operatorObjectId, roles.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorObjectId
  }
}

resource operatorBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorObjectId)) {
  name: guid(dataStorage.id, operatorObjectId, roles.storageBlobDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: operatorObjectId
  }
}

resource metricsPublisherRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appIdentity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------
// The Function App on Flex Consumption

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: 'plan-${prefix}-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

var kvSecretUri = '${keyVault.properties.vaultUri}secrets'

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: appIdentity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: [
          {
            name: 'http'
            instanceCount: httpAlwaysReadyInstances
          }
        ]
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      appSettings: [
        // The Functions host's own storage, identity-based.
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: hostStorage.properties.primaryEndpoints.blob
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: hostStorage.properties.primaryEndpoints.queue
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: hostStorage.properties.primaryEndpoints.table
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: appIdentity.properties.clientId
        }
        // The app's data (shared/storage.py and the queue triggers' connection="PROW_STORAGE").
        {
          name: 'PROW_STORAGE__blobServiceUri'
          value: dataStorage.properties.primaryEndpoints.blob
        }
        {
          name: 'PROW_STORAGE__queueServiceUri'
          value: dataStorage.properties.primaryEndpoints.queue
        }
        {
          name: 'PROW_STORAGE__tableServiceUri'
          value: dataStorage.properties.primaryEndpoints.table
        }
        {
          name: 'PROW_STORAGE__accountName'
          value: dataStorage.name
        }
        {
          name: 'PROW_STORAGE__credential'
          value: 'managedidentity'
        }
        {
          name: 'PROW_STORAGE__clientId'
          value: appIdentity.properties.clientId
        }
        // DefaultAzureCredential anywhere in the code picks the same identity.
        {
          name: 'AZURE_CLIENT_ID'
          value: appIdentity.properties.clientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
        }
        {
          name: 'PROW_CONFIG_PATH'
          value: configPath
        }
        {
          name: 'PROW_JOB_CONFIG_PATH'
          value: jobConfigPath
        }
        {
          name: 'PROW_PLUGIN_CONFIG_PATH'
          value: pluginConfigPath
        }
        {
          name: 'PROW_HMAC_SECRET'
          value: '@Microsoft.KeyVault(SecretUri=${kvSecretUri}/hmac-secret)'
        }
        {
          name: 'GITHUB_API_URL'
          value: githubApiUrl
        }
        // Exactly one GitHub credential is set: the code prefers the App when both are present, and an
        // unresolvable Key Vault reference would reach the code as its literal text.
        {
          name: 'GITHUB_TOKEN'
          value: useGitHubApp ? '' : '@Microsoft.KeyVault(SecretUri=${kvSecretUri}/github-token)'
        }
        {
          name: 'GITHUB_APP_ID'
          value: githubAppId
        }
        {
          name: 'GITHUB_APP_PRIVATE_KEY'
          value: useGitHubApp ? '@Microsoft.KeyVault(SecretUri=${kvSecretUri}/github-app-private-key)' : ''
        }
        {
          name: 'PROW_KUBECONFIG'
          value: kubeconfigPath
        }
        {
          name: 'PROW_AKS_CLUSTERS'
          value: deployAks ? string({
            default: {
              server: 'https://${aks.outputs.apiServerFqdn}:443'
            }
          }) : aksClusters
        }
        {
          name: 'PROW_AKS_CLIENT_ID'
          value: appIdentity.properties.clientId
        }
        // How job pods' upload containers reach the artifact containers (shared/artifacts/decorate.py).
        {
          name: 'PROW_ARTIFACTS_ACCOUNT_URL'
          value: dataStorage.properties.primaryEndpoints.blob
        }
        {
          name: 'PROW_ARTIFACTS_AUTH'
          value: 'workload-identity'
        }
        {
          name: 'PROW_ARTIFACTS_CLIENT_ID'
          value: deployAks ? aks.outputs.uploaderClientId : uploaderClientId
        }
        {
          name: 'PROW_ARTIFACTS_TENANT_ID'
          value: subscription().tenantId
        }
        {
          name: 'PROW_ARTIFACTS_SERVICE_ACCOUNT'
          value: 'prow-uploader'
        }
        {
          name: 'PROW_DASHBOARD_URL'
          value: dataStorage.properties.primaryEndpoints.web
        }
        {
          name: 'PROW_STATUS_RECONCILER_MAX_RETIRE_SHARE'
          value: '0.5'
        }
      ]
    }
  }
  dependsOn: [
    deploymentContainer
    hostBlobRole
    hostQueueRole
    hostTableRole
    dataBlobRole
    dataQueueRole
    dataTableRole
    keyVaultSecretsRole
    metricsPublisherRole
  ]
}

// ---------------------------------------------------------------------------------------------------
// Static website ($web) for the dashboard, and the optional build cluster

module staticWebsite 'modules/static-website.bicep' = if (enableStaticWebsite) {
  name: 'static-website'
  params: {
    location: location
    storageAccountName: dataStorage.name
    namePrefix: '${prefix}-${token}'
    tags: tags
  }
}

module aks 'modules/aks.bicep' = if (deployAks) {
  name: 'aks'
  params: {
    location: location
    namePrefix: '${prefix}-${token}'
    appPrincipalId: appIdentity.properties.principalId
    dataStorageAccountName: dataStorage.name
    logAnalyticsWorkspaceId: logAnalytics.id
    tags: tags
  }
}

output functionAppName string = functionApp.name
output functionAppHostName string = functionApp.properties.defaultHostName
output webhookUrl string = 'https://${functionApp.properties.defaultHostName}/api/hook'
output dashboardUrl string = dataStorage.properties.primaryEndpoints.web
output dataStorageAccountName string = dataStorage.name
output hostStorageAccountName string = hostStorage.name
output keyVaultName string = keyVault.name
output appIdentityClientId string = appIdentity.properties.clientId
output appIdentityPrincipalId string = appIdentity.properties.principalId
output appInsightsName string = appInsights.name
output logAnalyticsWorkspaceName string = logAnalytics.name
output aksName string = deployAks ? aks.outputs.clusterName : ''
output uploaderClientId string = deployAks ? aks.outputs.uploaderClientId : ''
