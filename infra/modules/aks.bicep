// Optional build cluster: AKS with Entra ID + Azure RBAC (no local accounts, so no static kubeconfig
// credential exists), the OIDC issuer and workload identity for the artifact upload sidecar, and a
// separate tainted node pool for untrusted jobs (pull requests from people outside the org).
// Namespaces and service accounts are Kubernetes objects, not ARM resources: infra/k8s/ holds them.

param location string
param namePrefix string

@description('Principal id of the Function App identity, which creates and watches job pods.')
param appPrincipalId string

@description('Storage account that receives artifacts; the upload sidecar writes blobs there.')
param dataStorageAccountName string

param logAnalyticsWorkspaceId string

@description('Namespace of job pods (Prow\'s default pod namespace).')
param jobNamespace string = 'test-pods'

@description('Namespace of untrusted job pods.')
param untrustedNamespace string = 'test-pods-untrusted'

@description('Kubernetes service account of the upload sidecar (in both job namespaces).')
param uploaderServiceAccount string = 'prow-uploader'

param systemNodeVmSize string = 'Standard_D2s_v5'
param jobNodeVmSize string = 'Standard_D4s_v5'
param jobNodeMaxCount int = 5
param tags object = {}

var roles = {
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'
  aksRbacWriter: 'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource dataStorage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: dataStorageAccountName
}

resource cluster 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  name: 'aks-${namePrefix}'
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: 'Standard'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dnsPrefix: 'aks-${namePrefix}'
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
    }
    apiServerAccessProfile: {
      enablePrivateCluster: false
    }
    autoUpgradeProfile: {
      upgradeChannel: 'patch'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPolicy: 'azure'
    }
    addonProfiles: {
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: logAnalyticsWorkspaceId
        }
      }
      azurepolicy: {
        enabled: true
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        count: 2
        vmSize: systemNodeVmSize
        osType: 'Linux'
        osDiskType: 'Ephemeral'
        osDiskSizeGB: 64
        maxPods: 50
        type: 'VirtualMachineScaleSets'
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
      }
      {
        name: 'jobs'
        mode: 'User'
        vmSize: jobNodeVmSize
        osType: 'Linux'
        osDiskType: 'Ephemeral'
        osDiskSizeGB: 128
        maxPods: 50
        type: 'VirtualMachineScaleSets'
        enableAutoScaling: true
        count: 1
        minCount: 0
        maxCount: jobNodeMaxCount
        nodeLabels: {
          'prow.k8s.io/pool': 'jobs'
        }
      }
      {
        // Jobs from untrusted authors run here only: the taint keeps every other pod off these nodes,
        // and untrusted pods carry the matching toleration and node selector.
        name: 'untrusted'
        mode: 'User'
        vmSize: jobNodeVmSize
        osType: 'Linux'
        osDiskType: 'Ephemeral'
        osDiskSizeGB: 128
        maxPods: 30
        type: 'VirtualMachineScaleSets'
        enableAutoScaling: true
        count: 1
        minCount: 0
        maxCount: jobNodeMaxCount
        nodeLabels: {
          'prow.k8s.io/pool': 'untrusted'
        }
        nodeTaints: [
          'prow.k8s.io/untrusted=true:NoSchedule'
        ]
      }
    ]
  }
}

// The Function App lists, creates and deletes pods through the Kubernetes API with an Entra token.
resource appClusterUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(cluster.id, appPrincipalId, roles.aksClusterUser)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.aksClusterUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appRbacWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(cluster.id, appPrincipalId, roles.aksRbacWriter)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.aksRbacWriter)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The upload sidecar's identity: it writes artifacts and nothing else.
resource uploaderIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${namePrefix}-uploader'
  location: location
  tags: tags
}

resource uploaderFederation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: uploaderIdentity
  name: 'trusted-jobs'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${jobNamespace}:${uploaderServiceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

resource uploaderFederationUntrusted 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: uploaderIdentity
  name: 'untrusted-jobs'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${untrustedNamespace}:${uploaderServiceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
  dependsOn: [
    uploaderFederation // federated credentials of one identity must be written one at a time
  ]
}

resource uploaderBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, uploaderIdentity.id, roles.storageBlobDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: uploaderIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

output clusterName string = cluster.name
output apiServerFqdn string = cluster.properties.fqdn
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL
output uploaderClientId string = uploaderIdentity.properties.clientId
