using Pipeline.Producers.Process;

namespace Pipeline.Tests.Producers.Process;

public class CgroupLabelsTests
{
    private const string Id = "3f2a9c6e1b7d4e8fa0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3";

    [Theory]
    [InlineData("0::/system.slice/nginx.service\n", "/system.slice/nginx.service", "nginx.service", null, null, null)]
    [InlineData("0::/docker/" + Id + "\n", "/docker/" + Id, null, Id, "docker", null)]
    [InlineData("0::/system.slice/docker-" + Id + ".scope\n", "/system.slice/docker-" + Id + ".scope", "docker-" + Id + ".scope", Id, "docker", null)]
    [InlineData("0::/machine.slice/libpod-" + Id + ".scope/container\n", "/machine.slice/libpod-" + Id + ".scope/container", "libpod-" + Id + ".scope", Id, "podman", null)]
    [InlineData("0::/libpod_parent/libpod-" + Id + "\n", "/libpod_parent/libpod-" + Id, null, Id, "podman", null)]
    [InlineData("0::/system.slice/nerdctl-" + Id + ".scope\n", "/system.slice/nerdctl-" + Id + ".scope", "nerdctl-" + Id + ".scope", Id, "containerd", null)]
    [InlineData("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b3a1c2d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-" + Id + ".scope\n",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b3a1c2d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-" + Id + ".scope",
        "cri-containerd-" + Id + ".scope", Id, "containerd", "0b3a1c2d-4e5f-6789-abcd-ef0123456789")]
    [InlineData("0::/kubepods.slice/kubepods-pod0b3a1c2d_4e5f_6789_abcd_ef0123456789.slice/crio-" + Id + ".scope\n",
        "/kubepods.slice/kubepods-pod0b3a1c2d_4e5f_6789_abcd_ef0123456789.slice/crio-" + Id + ".scope",
        "crio-" + Id + ".scope", Id, "cri-o", "0b3a1c2d-4e5f-6789-abcd-ef0123456789")]
    [InlineData("0::/kubepods/besteffort/pod0b3a1c2d-4e5f-6789-abcd-ef0123456789/" + Id + "\n",
        "/kubepods/besteffort/pod0b3a1c2d-4e5f-6789-abcd-ef0123456789/" + Id, null, Id, null, "0b3a1c2d-4e5f-6789-abcd-ef0123456789")]
    [InlineData("0::/machine.slice/libpod-conmon-" + Id + ".scope\n", "/machine.slice/libpod-conmon-" + Id + ".scope", "libpod-conmon-" + Id + ".scope", null, null, null)]
    // Hybrid hierarchy (cgroup v1 controllers and an empty unified one): the v1 paths tell where the process is.
    [InlineData("12:memory:/docker/" + Id + "\n1:name=systemd:/docker/" + Id + "\n0::/\n", "/docker/" + Id, null, Id, "docker", null)]
    [InlineData("4:memory:/user.slice\n0::/\n", "/user.slice", null, null, null, null)]
    [InlineData("0::/\n", "/", null, null, null, null)]
    public void TheCgroupTellsUnitContainerRuntimeAndPod(string content, string path, string? unit, string? container, string? runtime, string? pod)
    {
        var info = CgroupLabels.Parse(content);
        Assert.Equal(path, info.Path);
        Assert.Equal(unit, info.SystemdUnit);
        Assert.Equal(container, info.ContainerId);
        Assert.Equal(runtime, info.ContainerRuntime);
        Assert.Equal(pod, info.PodUid);
    }

    [Fact]
    public void TheSameFileContentIsParsedOnce()
    {
        var labels = new CgroupLabels();
        var a = labels.Lookup("0::/system.slice/nginx.service\n"u8);
        var b = labels.Lookup("0::/system.slice/nginx.service\n"u8);
        Assert.Same(a, b);
        Assert.NotSame(a, labels.Lookup("0::/system.slice/sshd.service\n"u8));
    }
}
