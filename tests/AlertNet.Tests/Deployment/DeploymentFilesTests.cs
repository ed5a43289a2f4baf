using AlertNet.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace AlertNet.Tests.Deployment;

/// <summary>The compose and Kubernetes files parse and say what the README says they do. (No Docker engine or
/// Kubernetes API here: this is what can be checked without one.)</summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Infra = Path.Combine(TestCluster.RepoRoot, "infra");

    public static TheoryData<string> YamlFiles() =>
        new(Directory.GetFiles(Infra, "*.yaml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Infra, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Every_deployment_file_is_valid_YAML(string file)
    {
        var documents = Load(file);
        Assert.NotEmpty(documents);
    }

    [Fact]
    public void Every_Kubernetes_object_has_an_api_version_a_kind_and_a_name()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Infra, "k8s"), "*.yaml").Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal)))
        {
            foreach (var document in Load(file))
            {
                Assert.False(string.IsNullOrEmpty(Text(document, "apiVersion")), file);
                Assert.False(string.IsNullOrEmpty(Text(document, "kind")), file);
                Assert.False(string.IsNullOrEmpty(Text(document, "metadata", "name")), file);
            }
        }
    }

    [Theory]
    [InlineData("web.yaml", "web")]
    [InlineData("worker.yaml", "worker")]
    public void Web_and_worker_pods_run_their_role_and_are_probed_on_healthz_and_readyz(string file, string role)
    {
        var deployment = Load(Path.Combine("k8s", file)).Single(d => Text(d, "kind") == "Deployment");
        var container = (YamlMappingNode)((YamlSequenceNode)Node(deployment, "spec", "template", "spec", "containers")!).Children[0];

        Assert.Equal("/healthz", Text(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/readyz", Text(container, "readinessProbe", "httpGet", "path"));
        var env = (YamlSequenceNode)Node(container, "env")!;
        Assert.Contains(env.Children.Cast<YamlMappingNode>(), e => Text(e, "name") == "AlertNet__Role" && Text(e, "value") == role);
        var sources = ((YamlSequenceNode)Node(container, "envFrom")!).Children.Cast<YamlMappingNode>()
            .Select(s => Text(s, "secretRef", "name")).OfType<string>().ToList();
        Assert.Contains("alertnet-keys", sources);
        Assert.Contains("alertnet-twilio", sources);
    }

    [Fact]
    public void The_worker_autoscaler_scales_the_worker_deployment()
    {
        var autoscaler = Load(Path.Combine("k8s", "worker.yaml")).Single(d => Text(d, "kind") == "HorizontalPodAutoscaler");

        Assert.Equal("alertnet-worker", Text(autoscaler, "spec", "scaleTargetRef", "name"));
    }

    [Fact]
    public void Migrations_run_as_a_step_of_their_own_in_compose_and_Kubernetes()
    {
        var compose = Load("compose.yaml").Single();
        var services = (YamlMappingNode)Node(compose, "services")!;
        Assert.Equal(["postgres", "migrate", "web", "worker"], services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!));
        Assert.Equal("migrate", ((YamlSequenceNode)Node(compose, "services", "migrate", "command")!).Children.Cast<YamlScalarNode>().Single().Value);

        var job = Load(Path.Combine("k8s", "migrate-job.yaml")).Single();
        var container = (YamlMappingNode)((YamlSequenceNode)Node(job, "spec", "template", "spec", "containers")!).Children[0];
        Assert.Equal("migrate", ((YamlSequenceNode)Node(container, "args")!).Children.Cast<YamlScalarNode>().Single().Value);
    }

    private static List<YamlMappingNode> Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Infra, file));
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode? Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var child))
            {
                return null;
            }

            node = child;
        }

        return node;
    }

    private static string? Text(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;
}
