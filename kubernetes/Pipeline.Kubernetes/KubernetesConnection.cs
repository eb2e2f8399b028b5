using k8s;

namespace Pipeline.Kubernetes;

/// <summary>How the operator and the agent reach the API: the pod's service account in a cluster, else a kubeconfig.</summary>
public static class KubernetesConnection
{
    public static IKubernetes Create(string? kubeconfig = null)
    {
        var config = kubeconfig is null && KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        return new k8s.Kubernetes(config);
    }
}
